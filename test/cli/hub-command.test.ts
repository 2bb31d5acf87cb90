/** The `hub` command as a user runs it, in a child process. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo, type Server } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { redisUrl, repoRoot, sharedData, testHubSettings } from '../helpers/test-hub.js';
import { spawnHub, type RunResult } from '../helpers/run-hub.js';

function runHub(args: string[], env: Record<string, string>, cwd: string): Promise<RunResult> {
  return spawnHub(args, { ...process.env, ...env }, cwd);
}

/** Listens on a free port of 127.0.0.1, in place of another process that uses the port. */
async function occupyPort(): Promise<{ server: Server; port: number }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

describe('hub demo', () => {
  it('runs on the Ottawa listings and names their addresses', async () => {
    const cwd = await mkdtemp(path.join(os.tmpdir(), 'hub-demo-'));
    try {
      const result = await runHub(
        ['demo', '--listings', path.join(sharedData, 'repliers/listings-search-ottawa.json')],
        { REDIS_URL: redisUrl, RULES_DIR: path.join(repoRoot, 'rules'), HUB_ADMIN_TOKEN: '' },
        cwd,
      );
      expect(result.stderr).toBe('');
      // The hub's warnings are printed as plain text among the demo's lines, not as JSON.
      expect(result.stdout).not.toMatch(/^\{/m);
      expect(result.stdout).toMatch(/^warning: admin surface off: set HUB_ADMIN_TOKEN/m);
      expect(result.code).toBe(0);
      expect(result.stdout).toContain('listing.updated: price drop on 62 Erin Crescent, Ottawa');
      expect(result.stdout).toContain('routed: 3 deliveries');
      expect(result.stdout).toContain('listing.updated: 10 Garrison Street, Ottawa sold');
      expect(result.stdout).toContain('channel #listing-alerts');
      // The demo shows the stored status, as the admin API does, and marks a delivery written to the outbox.
      expect(result.stdout.match(/^ {4}email +sent \(outbox\) +\S/gm)).toHaveLength(3);
      expect(result.stdout).not.toMatch(/^ {4}\S+ +outbox /m);
      expect(result.stdout).toMatch(/^ {6}data\/demo\/outbox\/email\/\S+\.eml$/m);
    } finally {
      await rm(cwd, { recursive: true, force: true });
    }
  }, 60_000);
});

/** The test PostgreSQL server without a database name. */
const postgresBase = (process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test').replace(/\/[^/]*$/, '');

describe('hub start', () => {
  it('says in one line when Redis cannot be reached', async () => {
    const cwd = await mkdtemp(path.join(os.tmpdir(), 'hub-start-'));
    try {
      // Port 1 on loopback: nothing listens there, so the connection is refused at once.
      const result = await runHub(['start'], { REDIS_URL: 'redis://127.0.0.1:1', RULES_DIR: path.join(repoRoot, 'rules') }, cwd);
      expect(result.code).toBe(1);
      const lines = result.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^hub: cannot reach Redis at redis:\/\/127\.0\.0\.1:1 .*redis-server/);
    } finally {
      await rm(cwd, { recursive: true, force: true });
    }
  }, 30_000);

  const databaseCases = [
    {
      name: 'PostgreSQL refusing connections',
      url: 'postgres://postgres@127.0.0.1:1/test',
      expected: /^hub: cannot open the PostgreSQL store at postgres:\/\/postgres@127\.0\.0\.1:1\/test \(connect ECONNREFUSED 127\.0\.0\.1:1\)\. Start PostgreSQL/,
    },
    {
      name: 'a missing PostgreSQL database',
      url: `${postgresBase}/hub_no_such_database`,
      expected: /\(database "hub_no_such_database" does not exist\)\. Create the database first \(`createdb hub_no_such_database`\)/,
    },
    {
      name: 'a missing PostgreSQL schema',
      url: `${postgresBase}/test?options=-c%20search_path%3Dhub_no_such_schema`,
      expected: /\(no schema has been selected to create in\)\. The schema named by search_path in DATABASE_URL does not exist/,
    },
    {
      name: 'an SQLite path under a file',
      url: path.join(repoRoot, 'package.json', 'hub.sqlite'),
      expected: /^hub: cannot open the SQLite store at .*package\.json\/hub\.sqlite \(EEXIST.*\)\. Check DATABASE_URL/,
    },
  ];

  for (const testCase of databaseCases) {
    it(`says in one line: ${testCase.name}`, async () => {
      const result = await runHub(['start'], { DATABASE_URL: testCase.url, RULES_DIR: path.join(repoRoot, 'rules') }, os.tmpdir());

      expect(result.code).toBe(1);
      const lines = result.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(testCase.expected);
    }, 30_000);
  }

  const portCases = [
    { setting: 'PORT', role: 'all' },
    { setting: 'METRICS_PORT', role: 'worker' },
  ];

  for (const testCase of portCases) {
    it(`says in one line when ${testCase.setting} is in use (--role ${testCase.role})`, async () => {
      const folder = await testHubSettings();
      const { server, port } = await occupyPort();
      try {
        const { settings } = folder;
        const env = {
          REDIS_URL: settings.redisUrl,
          DATABASE_URL: settings.databaseUrl,
          OUTBOX_DIR: settings.outboxDir,
          QUEUE_PREFIX: settings.queuePrefix,
          RULES_DIR: settings.rulesDir,
          HOST: '127.0.0.1',
          PORT: '0',
          [testCase.setting]: String(port),
        };
        const result = await runHub(['start', '--role', testCase.role], env, folder.dir);

        expect(result.code).toBe(1);
        const lines = result.stderr.trim().split('\n');
        expect(lines).toHaveLength(1);
        expect(lines[0]).toBe(
          `hub: port ${port} on 127.0.0.1 is already in use. Stop the process that listens on it, or set ${testCase.setting} to a free port.`,
        );
      } finally {
        await new Promise((resolve) => server.close(resolve));
        await folder.cleanup();
      }
    }, 30_000);
  }

  it('rejects an invalid setting naming the variable', async () => {
    const result = await runHub(['start'], { PORT: 'eighty' }, os.tmpdir());
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe('hub: PORT must be an integer from 0 to 65535; got "eighty".');
  });
});

describe('hub webhooks expect', () => {
  it('opens the handshake window in Redis', async () => {
    const cwd = await mkdtemp(path.join(os.tmpdir(), 'hub-expect-'));
    const prefix = `hub-test-expect-${process.pid}`;
    const redis = new Redis(redisUrl);
    try {
      const result = await runHub(['webhooks', 'expect', 'listing.updated', '--minutes', '2'], { REDIS_URL: redisUrl, QUEUE_PREFIX: prefix }, cwd);
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect(result.stdout.trim()).toBe('expecting a handshake on /webhooks/repliers/listing.updated for 2 minutes');
      const ttl = await redis.ttl(`${prefix}:expect:listing.updated`);
      expect(ttl).toBeGreaterThan(100);
      expect(ttl).toBeLessThanOrEqual(120);
    } finally {
      await redis.del(`${prefix}:expect:listing.updated`);
      redis.disconnect();
      await rm(cwd, { recursive: true, force: true });
    }
  });

  it('rejects an unknown event name', async () => {
    const result = await runHub(['webhooks', 'expect', 'listing.exploded'], { REDIS_URL: redisUrl }, os.tmpdir());
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^hub: unknown event: listing\.exploded; use one of agent\.created/);
  });
});

describe('hub rules check', () => {
  it('accepts the shipped rules', async () => {
    const result = await runHub(['rules', 'check', '--dir', path.join(repoRoot, 'rules')], {}, os.tmpdir());
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^3 rules are valid \(3 enabled\), version [0-9a-f]{12}$/m);
  });

  it('counts a single problem in the singular', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'hub-rules-check-'));
    try {
      await writeFile(path.join(dir, 'broken.json'), '{"id": ');
      const result = await runHub(['rules', 'check', '--dir', dir], {}, os.tmpdir());

      expect(result.code).toBe(1);
      const lines = result.stderr.trim().split('\n');
      expect(lines).toHaveLength(2);
      expect(lines[0]).toMatch(/^broken\.json at \/: invalid JSON/);
      expect(lines[1]).toBe(`1 problem found in ${dir}`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('rejects comparisons with a wrong operand count', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'hub-rules-check-'));
    try {
      const rule = {
        id: 'cheap-listing-email',
        description: 'Email clients about listings under $500,000.',
        events: ['listing.updated'],
        when: { and: [{ '<': [{ var: 'listing.listPrice' }] }, { '==': [1, 2, 3] }] },
        actions: [{ connector: 'email', template: 'price-drop', to: 'clients' }],
      };
      await writeFile(path.join(dir, 'cheap.json'), JSON.stringify(rule));
      const result = await runHub(['rules', 'check', '--dir', dir], {}, os.tmpdir());

      expect(result.code).toBe(1);
      expect(result.stdout).toBe('');
      expect(result.stderr.trim().split('\n')).toEqual([
        'cheap.json rule "cheap-listing-email" at /when/and/0/<: < compares two values, or three as a between test, but got 1; write {"<": [a, b]} or {"<": [low, x, high]}',
        'cheap.json rule "cheap-listing-email" at /when/and/1/==: == compares two values, but got 3; write {"==": [a, b]}',
        `2 problems found in ${dir}`,
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
