/** Keeps docs/delivery.md in step with the error codes the connectors raise. */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/test-hub.js';

async function sourceFiles(folder: string): Promise<string[]> {
  const entries = await readdir(folder, { withFileTypes: true, recursive: true });
  return entries.filter((entry) => entry.isFile() && entry.name.endsWith('.ts')).map((entry) => path.join(entry.parentPath, entry.name));
}

describe('connector error codes', () => {
  it('each code is in docs/delivery.md', async () => {
    const docs = await readFile(path.join(repoRoot, 'docs/delivery.md'), 'utf8');
    const variables = new Set([...(await readFile(path.join(repoRoot, '.env.example'), 'utf8')).matchAll(/^([A-Z_]+)=/gm)].map((match) => match[1]));
    const codes = new Set<string>();
    for (const file of await sourceFiles(path.join(repoRoot, 'connectors'))) {
      for (const match of (await readFile(file, 'utf8')).matchAll(/'((?:EMAIL|SLACK|SALESFORCE|WEBHOOK)_[A-Z_]+)'/g)) {
        // Setting names such as 'SALESFORCE_CLIENT_ID' appear in messages too; they are not error codes.
        if (!variables.has(match[1]!)) codes.add(match[1]!);
      }
    }

    expect(codes.size).toBeGreaterThan(30);
    const missing = [...codes].filter((code) => !docs.includes(`\`${code}\``));
    expect(missing, 'codes missing from docs/delivery.md').toEqual([]);
  });
});
