/** `hub config` and the `.env` file, run as a user runs them: the CLI in a child process in its own folder. */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadSettings, SettingsError } from '../../src/config/settings.js';
import { repoRoot } from '../helpers/test-hub.js';
import { spawnHub, type RunResult } from '../helpers/run-hub.js';

const token = 'config-test-admin-token-0123456789';

/** Returns this process's environment without any hub variable, so the child gets only the variables a test sets. */
function cleanEnvironment(): Record<string, string> {
  const names = new Set([...readFileSync(path.join(repoRoot, '.env.example'), 'utf8').matchAll(/^([A-Z][A-Z0-9_]*)=/gm)].map((match) => match[1]!));
  return Object.fromEntries(Object.entries(process.env).filter((entry): entry is [string, string] => !names.has(entry[0]) && entry[1] !== undefined));
}

function runHub(args: string[], env: Record<string, string>, cwd: string): Promise<RunResult> {
  return spawnHub(args, { ...cleanEnvironment(), ...env }, cwd);
}

let cwd: string;

beforeEach(async () => {
  cwd = await mkdtemp(path.join(os.tmpdir(), 'hub-config-'));
});

afterEach(async () => {
  await rm(cwd, { recursive: true, force: true });
});

describe('hub config', () => {
  it('prints settings from .env with secrets masked', async () => {
    await writeFile(
      path.join(cwd, '.env'),
      [`PORT=9090`, `HUB_ADMIN_TOKEN=${token}`, 'DATABASE_URL=postgres://hub:pw-in-env-file@127.0.0.1:5432/hub', 'SLACK_TOKEN=xoxb-secret-slack', 'LOG_LEVEL=debug', ''].join('\n'),
    );

    const result = await runHub(['config'], { LOG_LEVEL: 'warn' }, cwd);

    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const lines = result.stdout.split('\n');
    expect(lines[0]).toContain(path.join(cwd, '.env'));
    expect(lines).toContain('PORT = 9090  (.env)');
    expect(lines).toContain('HUB_ADMIN_TOKEN = ****  (.env)');
    expect(lines).toContain('SLACK_TOKEN = ****  (.env)');
    expect(lines).toContain('DATABASE_URL = postgres://hub:****@127.0.0.1:5432/hub  (.env)');
    expect(lines).toContain('REDIS_URL = redis://127.0.0.1:6379  (default)');
    expect(lines).toContain('REPLIERS_API_KEY = (not set)  (default)');
    expect(lines).toContain('HOOK_SECRET_HEADER = x-hook-secret,x-api-key  (default)');
    expect(result.stdout).not.toContain(token);
    expect(result.stdout).not.toContain('pw-in-env-file');
    expect(result.stdout).not.toContain('xoxb-secret-slack');
  });

  it('real environment wins over .env', async () => {
    await writeFile(path.join(cwd, '.env'), 'LOG_LEVEL=debug\nQUEUE_PREFIX=from-file\n');

    const result = await runHub(['config'], { LOG_LEVEL: 'warn' }, cwd);

    expect(result.stdout.split('\n')).toContain('LOG_LEVEL = warn  (environment)');
    expect(result.stdout.split('\n')).toContain('QUEUE_PREFIX = from-file  (.env)');
  });

  it('runs without a .env file', async () => {
    const result = await runHub(['config'], {}, cwd);

    expect(result.code).toBe(0);
    expect(result.stdout).toContain('no .env file here');
    expect(result.stdout.split('\n')).toContain('HUB_ADMIN_TOKEN = (not set)  (default)');
  });

  it('names every variable of .env.example once', async () => {
    const result = await runHub(['config'], {}, cwd);

    const printed = result.stdout.split('\n').slice(1).filter(Boolean).map((line) => line.split(' = ')[0]!);
    const documented = [...readFileSync(path.join(repoRoot, '.env.example'), 'utf8').matchAll(/^([A-Z][A-Z0-9_]*)=/gm)].map((match) => match[1]!);
    expect(new Set(printed).size).toBe(printed.length);
    expect([...printed].sort()).toEqual([...documented].sort());
  });

  it('writes lists and pairs as in the environment', async () => {
    const env = { REDIS_CLUSTER_NODES: '127.0.0.1:7001,127.0.0.1:7002', QUEUE_PREFIX: '{hub}', WEBHOOK_TARGETS: 'crm=https://crm.example.com/hooks' };

    const lines = (await runHub(['config'], env, cwd)).stdout.split('\n');

    expect(lines).toContain('REDIS_CLUSTER_NODES = 127.0.0.1:7001,127.0.0.1:7002  (environment)');
    expect(lines).toContain('WEBHOOK_TARGETS = crm=https://crm.example.com/hooks  (environment)');
    expect(lines).toContain('WEBHOOK_ALLOWED_ADDRESSES = (not set)  (default)');
  });

  it('invalid setting names the variable', async () => {
    await writeFile(path.join(cwd, '.env'), 'PORT=eighty\n');

    const result = await runHub(['config'], {}, cwd);

    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe('hub: PORT must be an integer from 0 to 65535; got "eighty".');
  });
});

describe('admin settings', () => {
  it('short admin token is rejected', () => {
    expect(() => loadSettings({ HUB_ADMIN_TOKEN: 'short' })).toThrow(SettingsError);
    expect(() => loadSettings({ HUB_ADMIN_TOKEN: 'short' })).toThrow(/HUB_ADMIN_TOKEN must be at least 24 characters/);
  });

  it('failure threshold is range checked', () => {
    expect(() => loadSettings({ ALERT_FAILURE_WINDOW_SECONDS: '5' })).toThrow(/ALERT_FAILURE_WINDOW_SECONDS must be an integer from 60 to 86400/);
    expect(loadSettings({ ALERT_FAILURE_THRESHOLD: '0' }).alerts.failureThreshold).toBe(0);
  });

  it('admin token is off by default', () => {
    expect(loadSettings({}).adminToken).toBeNull();
  });
});
