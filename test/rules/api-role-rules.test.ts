/**
 * A hub process of the `api` role follows the rules folder as workers do, so its admin surface previews and replays
 * by the rules the workers run: it reloads a saved edit by itself and replies to `hub rules reload`.
 */
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reloadRules } from '../../src/cli/rules-commands.js';
import { startHub, type RunningHub } from '../../src/hub.js';
import { createLogger } from '../../src/logger.js';
import { repoRoot, testHubSettings, type TestHubFolder } from '../helpers/test-hub.js';

let rulesDir: string;
let folder: TestHubFolder;
let api: RunningHub;

beforeAll(async () => {
  rulesDir = await mkdtemp(path.join(os.tmpdir(), 'hub-api-rules-'));
  await cp(path.join(repoRoot, 'rules'), rulesDir, { recursive: true });
  folder = await testHubSettings({ RULES_DIR: rulesDir, RECONCILE_INTERVAL_MINUTES: '0' });
  api = await startHub(folder.settings, 'api', createLogger('silent'));
});

afterAll(async () => {
  await api?.close();
  await folder?.cleanup();
  await rm(rulesDir, { recursive: true, force: true });
});

describe('api role rules', () => {
  it('follows an edit of the folder', async () => {
    const before = api.ruleSet().version;
    const file = path.join(rulesDir, 'price-drop-email.json');
    const text = await readFile(file, 'utf8');
    await writeFile(file, text.replace('"description": "', '"description": "Edited. '));

    const deadline = Date.now() + 15_000;
    while (api.ruleSet().version === before && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));

    expect(api.ruleSet().version).not.toBe(before);
    expect(api.ruleSet().rules.some((rule) => rule.description?.startsWith('Edited. '))).toBe(true);
  });

  it('replies to hub rules reload', async () => {
    const stdout: string[] = [];
    const stderr: string[] = [];

    const code = await reloadRules(folder.settings, { waitSeconds: 10 }, { out: (text) => void stdout.push(text), err: (text) => void stderr.push(text) });

    expect(stderr).toEqual([]);
    expect(code).toBe(0);
    expect(stdout[0]).toMatch(/^reload requested from 1 process\(es\)/);
    expect(stdout[1]).toContain(`pid ${process.pid}: already on version ${api.ruleSet().version}`);
  });
});
