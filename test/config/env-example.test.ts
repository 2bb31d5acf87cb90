/** `.env.example` lists exactly the variables that `src/config/settings.ts` reads. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadSettings } from '../../src/config/settings.js';
import { repoRoot } from '../helpers/test-hub.js';

/** Variable names assigned in .env.example, commented lines excluded. */
function exampleVariables(): Set<string> {
  const text = readFileSync(path.join(repoRoot, '.env.example'), 'utf8');
  return new Set([...text.matchAll(/^([A-Z][A-Z0-9_]*)=/gm)].map((match) => match[1]!));
}

/**
 * Collects the variable names settings.ts reads. `loadSettings` is run on a recording environment, which catches
 * names it builds such as EMAIL_CONCURRENCY. Literal names passed to a reader in the source are added too, which
 * covers reads made only when another variable is set.
 */
function settingsVariables(): Set<string> {
  const read = new Set<string>();
  const recorder = new Proxy({} as Record<string, string | undefined>, {
    get(_target, name) {
      if (typeof name === 'string') read.add(name);
      return undefined;
    },
  });
  loadSettings(recorder);

  const source = readFileSync(path.join(repoRoot, 'src/config/settings.ts'), 'utf8');
  const literals = [
    ...[...source.matchAll(/\(env, '([A-Z][A-Z0-9_]*)'/g)].map((match) => match[1]!),
    ...[...source.matchAll(/env\[['"]([A-Z][A-Z0-9_]*)['"]\]/g)].map((match) => match[1]!),
  ];
  // A literal such as 'EMAIL' that only prefixes names read, like EMAIL_CONCURRENCY, is not a variable itself.
  const recorded = [...read];
  for (const name of literals) if (!recorded.some((other) => other.startsWith(`${name}_`))) read.add(name);
  return read;
}

describe('.env.example', () => {
  it('lists every variable settings reads', () => {
    const listed = exampleVariables();

    expect([...settingsVariables()].filter((name) => !listed.has(name)).sort()).toEqual([]);
  });

  it('lists no variable settings ignores', () => {
    const read = settingsVariables();

    expect([...exampleVariables()].filter((name) => !read.has(name)).sort()).toEqual([]);
  });

  it('found the variables at all', () => {
    expect(settingsVariables().size).toBeGreaterThan(30);
    expect(settingsVariables()).toContain('HUB_ADMIN_TOKEN');
    expect(settingsVariables()).toContain('EMAIL_CONCURRENCY');
  });

  it('defaults load as they are listed', () => {
    const env: Record<string, string> = {};
    const text = readFileSync(path.join(repoRoot, '.env.example'), 'utf8');
    for (const match of text.matchAll(/^([A-Z][A-Z0-9_]*)=(.*)$/gm)) env[match[1]!] = match[2]!;

    expect(loadSettings(env)).toEqual(loadSettings({}));
  });
});
