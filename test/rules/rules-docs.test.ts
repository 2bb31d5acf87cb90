/** The shipped rules, the examples and every JSON block of rules/README.md load with the hub's real connectors. */
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createConnectors, templatesOf } from '../../connectors/registry.js';
import { loadSettings } from '../../src/config/settings.js';
import { createLogger } from '../../src/logger.js';
import { checkDomainUsage } from '../../src/rules/domain-checks.js';
import { domainOperationNames } from '../../src/rules/domain-operations.js';
import { loadRuleSet } from '../../src/rules/load-rules.js';
import { validateLogic } from '../../src/rules/logic/index.js';
import { targetsByConnector } from '../../src/rules/rule.js';
import { repoRoot } from '../helpers/test-hub.js';

const connectors = createConnectors(loadSettings({ OUTBOX_DIR: path.join(os.tmpdir(), 'hub-rules-docs-outbox') }), createLogger('silent'));

afterAll(async () => {
  await Promise.all([...connectors.values()].map((connector) => connector.close()));
});

async function readmeJsonBlocks(): Promise<unknown[]> {
  const readme = await readFile(path.join(repoRoot, 'rules/README.md'), 'utf8');
  return [...readme.matchAll(/```json\n([\s\S]*?)```/g)].map((match) => JSON.parse(match[1]!) as unknown);
}

describe('rules folder', () => {
  it('loads the shipped rules', async () => {
    const ruleSet = await loadRuleSet(path.join(repoRoot, 'rules'), templatesOf(connectors));
    expect(ruleSet.rules.map((rule) => rule.id).sort()).toEqual(['favorite-created', 'favorite-sold-slack', 'price-drop-email']);
  });

  it('loads every example', async () => {
    const ruleSet = await loadRuleSet(path.join(repoRoot, 'rules/examples'), templatesOf(connectors));
    expect(ruleSet.rules.length).toBeGreaterThanOrEqual(3);
  });

  it('knows the targets of every connector', () => {
    for (const name of connectors.keys()) expect(targetsByConnector[name], name).toBeDefined();
  });
});

describe('rules/README.md', () => {
  it('shows only rules and conditions that load', async () => {
    const blocks = await readmeJsonBlocks();
    expect(blocks.length).toBeGreaterThanOrEqual(6);
    for (const block of blocks) {
      const isRule = typeof block === 'object' && block !== null && 'actions' in block;
      const condition = isRule ? (block as unknown as { when: unknown }).when : block;
      expect(validateLogic(condition, { operations: domainOperationNames }), JSON.stringify(block)).toEqual([]);
      expect(checkDomainUsage(condition), JSON.stringify(block)).toEqual([]);
    }
  });

  it('lists every template of every connector', async () => {
    const readme = await readFile(path.join(repoRoot, 'rules/README.md'), 'utf8');
    for (const [name, templates] of templatesOf(connectors)) {
      const row = readme.split('\n').find((line) => line.startsWith(`| \`${name}\` |`));
      expect(row, name).toBeDefined();
      for (const template of templates) expect(row, `${name} ${template}`).toContain(`\`${template}\``);
    }
  });

  it('lists every domain operation', async () => {
    const readme = await readFile(path.join(repoRoot, 'rules/README.md'), 'utf8');
    for (const name of domainOperationNames) expect(readme, name).toContain(`{"${name}": [`);
  });
});
