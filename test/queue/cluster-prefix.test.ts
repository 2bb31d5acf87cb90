/**
 * Queue key prefixes with a Redis Cluster hash tag. A prefix such as `{hub-test-…}` must work on a plain Redis. With
 * REDIS_CLUSTER_NODES, the hub must enqueue and process on a real local Redis Cluster of three masters. Both cases
 * take a webhook over HTTP, through the events worker, to an email at a real SMTP server.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisClusterToolsAvailable, startLocalRedisCluster, type LocalRedisCluster } from '../../drills/support/redis-cluster.js';
import { loadSettings } from '../../src/config/settings.js';
import { buildDemoWorld } from '../../src/demo/demo-world.js';
import { readListingsFile } from '../../src/demo/listings-file.js';
import { startRepliersStandIn, webhookBody, type RepliersStandIn } from '../../src/demo/repliers-stand-in.js';
import { waitForEvents } from '../../src/demo/wait-for-events.js';
import { startHub, type RunningHub } from '../../src/hub.js';
import { createLogger } from '../../src/logger.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';
import { redisUrl, repoRoot, testHubSettings, type TestHubFolder } from '../helpers/test-hub.js';
import { spawnHub, type RunResult } from '../helpers/run-hub.js';

/** Runs `hub <args>` in a child process with only the settings in `env`, and returns its exit code and output. */
function runHub(args: string[], env: Record<string, string>): Promise<RunResult> {
  return spawnHub(args, { PATH: process.env.PATH ?? '', ...env }, repoRoot);
}

/** Runs a hub with `env`, mirrors the favorites of the first listing and sends a price drop on it; returns the emails' recipients. */
async function priceDropRoundTrip(env: Record<string, string>): Promise<{ recipients: string[]; prefix: string }> {
  const listings = await readListingsFile(path.join(repoRoot, 'src/demo/sample-listings.json'));
  const world = buildDemoWorld(listings);
  let smtp: SmtpSink | undefined;
  let standIn: RepliersStandIn | undefined;
  let folder: TestHubFolder | undefined;
  let hub: RunningHub | undefined;
  try {
    smtp = await startSmtpSink();
    standIn = await startRepliersStandIn(world);
    folder = await testHubSettings({ SMTP_URL: smtp.url, REPLIERS_API_URL: standIn.url, REPLIERS_API_KEY: standIn.apiKey, RECONCILE_INTERVAL_MINUTES: '0', ...env });
    hub = await startHub(folder.settings, 'all', createLogger('silent'));

    for (const event of ['favorite.created', 'listing.updated']) {
      await hub.secrets.expect(event, 60);
      expect((await standIn.subscribe(`${hub.url}/webhooks/repliers/${event}`, event)).status).toBe(200);
    }
    const listing = listings[0]!;
    const fans = world.favorites.filter((favorite) => favorite.mlsNumber === listing.mlsNumber);
    const created: string[] = [];
    for (const favorite of fans) {
      const answer = await standIn.deliver('favorite.created', webhookBody('favorite.created', favorite));
      expect(answer.status).toBe(202);
      created.push((JSON.parse(answer.body) as { eventId: string }).eventId);
    }
    await waitForEvents(hub.store, created, 30_000);

    const drop = webhookBody(
      'listing.updated',
      { ...listing, listPrice: '700000.00', lastStatus: 'Pc' },
      { previous: { listPrice: listing.listPrice }, favoriteIds: fans.map((favorite) => favorite.favoriteId) },
    );
    const answer = await standIn.deliver('listing.updated', drop);
    expect(answer.status).toBe(202);
    await waitForEvents(hub.store, [(JSON.parse(answer.body) as { eventId: string }).eventId], 30_000);
    return { recipients: smtp.envelopes.flat().sort(), prefix: folder.settings.queuePrefix };
  } finally {
    await hub?.close();
    await standIn?.close();
    await smtp?.close();
    await folder?.cleanup();
  }
}

const clientsOfFirstListing = async (): Promise<string[]> => {
  const listings = await readListingsFile(path.join(repoRoot, 'src/demo/sample-listings.json'));
  const world = buildDemoWorld(listings);
  const fans = world.favorites.filter((favorite) => favorite.mlsNumber === listings[0]!.mlsNumber).map((favorite) => String(favorite.clientId));
  return world.clients.filter((client) => fans.includes(String(client.clientId))).map((client) => client.email!).sort();
};

describe('cluster settings', () => {
  it('rejects a prefix without a hash tag on a cluster', () => {
    expect(() => loadSettings({ REDIS_CLUSTER_NODES: '127.0.0.1:7000', QUEUE_PREFIX: 'hub' })).toThrow(/QUEUE_PREFIX must contain a Redis Cluster hash tag/);
  });

  it('rejects an empty hash tag', () => {
    expect(() => loadSettings({ REDIS_CLUSTER_NODES: '127.0.0.1:7000', QUEUE_PREFIX: 'hub{}{x}' })).toThrow(/got "hub\{\}\{x\}"/);
  });

  it('defaults the prefix to {hub} on a cluster', () => {
    const settings = loadSettings({ REDIS_CLUSTER_NODES: '127.0.0.1:7000, 127.0.0.1:7001' });
    expect(settings.queuePrefix).toBe('{hub}');
    expect(settings.redisClusterNodes).toEqual(['127.0.0.1:7000', '127.0.0.1:7001']);
  });

  it('rejects a node without a port', () => {
    expect(() => loadSettings({ REDIS_CLUSTER_NODES: '127.0.0.1' })).toThrow(/REDIS_CLUSTER_NODES must list host:port pairs.*got "127.0.0.1"/);
  });

  it('accepts braces in the prefix without a cluster', () => {
    expect(loadSettings({ QUEUE_PREFIX: '{hub}' }).queuePrefix).toBe('{hub}');
    expect(loadSettings({}).redisClusterNodes).toEqual([]);
  });
});

describe('prefix with a hash tag on a plain Redis', () => {
  it('enqueues and delivers', async () => {
    const prefix = `{hub-test-${randomBytes(5).toString('hex')}}`;
    const redis = new Redis(redisUrl);
    try {
      const { recipients } = await priceDropRoundTrip({ QUEUE_PREFIX: prefix });
      expect(recipients).toEqual(await clientsOfFirstListing());
    } finally {
      const leftovers = await redis.keys(`${prefix}:*`);
      if (leftovers.length > 0) await redis.del(...leftovers);
      redis.disconnect();
    }
  }, 60_000);
});

const clusterTools = await redisClusterToolsAvailable();

describe('hub on a local Redis Cluster', () => {
  let cluster: LocalRedisCluster | undefined;

  beforeAll(async () => {
    if (clusterTools) cluster = await startLocalRedisCluster();
  }, 60_000);

  afterAll(async () => {
    await cluster?.close();
  });

  // Skipped only where redis-server or redis-cli is not installed; CI has both.
  it.skipIf(!clusterTools)('enqueues and processes through REDIS_CLUSTER_NODES', async () => {
    const prefix = `{hub-test-${randomBytes(5).toString('hex')}}`;
    const { recipients } = await priceDropRoundTrip({ REDIS_CLUSTER_NODES: cluster!.nodes.join(','), QUEUE_PREFIX: prefix });
    expect(recipients).toEqual(await clientsOfFirstListing());

    const client = new Cluster(cluster!.nodes.map((node) => ({ host: node.split(':')[0]!, port: Number(node.split(':')[1]) })));
    try {
      // The events queue lives on the cluster under the tagged prefix, and the tag puts it in one slot.
      expect(await client.exists(`${prefix}:events:meta`)).toBe(1);
      const slot = await client.cluster('KEYSLOT', `${prefix}:events:meta`);
      expect(await client.cluster('KEYSLOT', `${prefix}:deliver-email:meta`)).toBe(slot);
    } finally {
      client.disconnect();
    }
  }, 90_000);

  it.skipIf(!clusterTools)('CLI commands reach the cluster', async () => {
    const prefix = `{hub-test-${randomBytes(5).toString('hex')}}`;
    const folder = await testHubSettings({ REDIS_CLUSTER_NODES: cluster!.nodes.join(','), QUEUE_PREFIX: prefix, RECONCILE_INTERVAL_MINUTES: '0' });
    const hub = await startHub(folder.settings, 'all', createLogger('silent'));
    // REDIS_URL names a closed port, so a command that ignored REDIS_CLUSTER_NODES would fail to connect.
    const env = {
      REDIS_URL: 'redis://127.0.0.1:1',
      REDIS_CLUSTER_NODES: cluster!.nodes.join(','),
      QUEUE_PREFIX: prefix,
      DATABASE_URL: folder.settings.databaseUrl,
      OUTBOX_DIR: folder.settings.outboxDir,
      RULES_DIR: folder.settings.rulesDir,
      LOG_LEVEL: 'silent',
    };
    try {
      // PUBLISH goes to any node of the cluster, while the hub listens on one, so three tries reach another node
      // with a probability of 26/27; each must still count the hub as a receiver.
      for (let attempt = 0; attempt < 3; attempt++) {
        const reload = await runHub(['rules', 'reload', '--wait', '10'], env);
        expect(reload.stderr).toBe('');
        expect(reload.code).toBe(0);
        expect(reload.stdout).toMatch(/^reload requested from 1 process\(es\)/);
        expect(reload.stdout).toContain(`pid ${process.pid}: already on version ${hub.ruleSet().version}`);
      }

      const status = await runHub(['connectors', 'status'], env);
      expect(status.stderr).toBe('');
      expect(status.code).toBe(0);
      expect(status.stdout).toMatch(/^email: running, writing to the outbox \(its service is not configured here\); 0 waiting, 0 active, 0 delayed, 0 failed$/m);

      const expecting = await runHub(['webhooks', 'expect', 'listing.updated'], env);
      expect(expecting.stderr).toBe('');
      expect(expecting.code).toBe(0);
      expect(await hub.secrets.isExpected('listing.updated')).toBe(true);
    } finally {
      await hub.close();
      await folder.cleanup();
    }
  }, 90_000);
});
