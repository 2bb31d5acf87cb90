/** Rotation of a hook secret through a handshake in a rotation window, with a grace period for the old secret. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectWebhooks } from '../../src/cli/commands.js';
import { connectRedis, startHub, type RunningHub } from '../../src/hub.js';
import { HookSecrets } from '../../src/ingress/hook-secrets.js';
import { createLogger } from '../../src/logger.js';
import { openStore } from '../../src/mirror/open-store.js';
import { testHubSettings, type TestHubFolder } from '../helpers/test-hub.js';

const oldSecret = 'old-secret-0123456789';
const newSecret = 'new-secret-9876543210';
const body = (favoriteId: number) => JSON.stringify({ data: { favoriteId, clientId: 2, mlsNumber: 'X1' } });

async function deliver(hub: RunningHub, event: string, secret: string, favoriteId: number): Promise<number> {
  const answer = await fetch(`${hub.url}/webhooks/repliers/${event}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-hook-secret': secret },
    body: body(favoriteId),
  });
  return answer.status;
}

async function handshake(hub: RunningHub, event: string, secret: string): Promise<number> {
  const answer = await fetch(`${hub.url}/webhooks/repliers/${event}`, { method: 'POST', headers: { 'x-hook-secret': secret } });
  return answer.status;
}

/** Polls `check` every 100 ms until it returns true or `timeoutMs` passes. */
async function eventually(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return check();
}

describe('with a long grace period', () => {
  let folder: TestHubFolder;
  let hub: RunningHub;

  beforeAll(async () => {
    folder = await testHubSettings({ HOOK_SECRET_GRACE_SECONDS: '3600' });
    hub = await startHub(folder.settings, 'api', createLogger('silent'));
    await hub.secrets.expect('favorite.created', 60);
    expect(await handshake(hub, 'favorite.created', oldSecret)).toBe(200);
  });

  afterAll(async () => {
    await hub?.close();
    await folder?.cleanup();
  });

  it('plain window keeps the stored secret', async () => {
    await hub.secrets.expect('favorite.created', 60);
    const counted = hub.counters.get('handshake_secret_stored') ?? 0;

    expect(await handshake(hub, 'favorite.created', newSecret)).toBe(401);
    expect((await hub.store.getHookSubscription('favorite.created'))?.secret).toBe(oldSecret);
    expect(hub.counters.get('handshake_secret_stored')).toBe(counted + 1);
  });

  it('handshake without a window is not expected', async () => {
    const counted = hub.counters.get('handshake_not_expected') ?? 0;

    expect(await handshake(hub, 'listing.updated', newSecret)).toBe(401);
    expect(await hub.store.getHookSubscription('listing.updated')).toBeNull();
    expect(hub.counters.get('handshake_not_expected')).toBe(counted + 1);
  });

  it('handshake without a window on a subscribed path asks for rotation', async () => {
    await hub.secrets.expect('agent.updated', 60);
    expect(await handshake(hub, 'agent.updated', oldSecret)).toBe(200);
    const counted = hub.counters.get('handshake_secret_stored') ?? 0;

    expect(await handshake(hub, 'agent.updated', newSecret)).toBe(401);
    expect((await hub.store.getHookSubscription('agent.updated'))?.secret).toBe(oldSecret);
    expect(hub.counters.get('handshake_secret_stored')).toBe(counted + 1);
  });

  it('rotation window stores the new secret', async () => {
    await hub.secrets.expect('favorite.created', 60, { rotate: true });
    const before = Date.now();

    expect(await handshake(hub, 'favorite.created', newSecret)).toBe(200);

    const subscription = await hub.store.getHookSubscription('favorite.created');
    expect(subscription?.secret).toBe(newSecret);
    expect(subscription?.previous?.secret).toBe(oldSecret);
    const validUntil = Date.parse(subscription!.previous!.validUntil);
    expect(validUntil).toBeGreaterThanOrEqual(before + 3_600_000 - 1000);
    expect(validUntil).toBeLessThanOrEqual(Date.now() + 3_600_000);
    expect(await hub.secrets.isExpected('favorite.created')).toBe(false);
  });

  it('both secrets verify during the grace period', async () => {
    expect(await deliver(hub, 'favorite.created', newSecret, 1)).toBe(202);
    expect(await deliver(hub, 'favorite.created', oldSecret, 2)).toBe(202);
    expect(await hub.secrets.match('favorite.created', oldSecret)).toBe('previous');
    expect(await hub.secrets.match('favorite.created', newSecret)).toBe('current');
  });

  it('a third secret is rejected', async () => {
    expect(await deliver(hub, 'favorite.created', 'third-secret-000000', 3)).toBe(401);
  });

  it('repeated handshake of the new secret succeeds', async () => {
    expect(await handshake(hub, 'favorite.created', newSecret)).toBe(200);
    expect((await hub.store.getHookSubscription('favorite.created'))?.previous?.secret).toBe(oldSecret);
  });

  it('rotation window on a new path stores a first secret', async () => {
    await hub.secrets.expect('favorite.deleted', 60, { rotate: true });

    expect(await handshake(hub, 'favorite.deleted', newSecret)).toBe(200);

    const subscription = await hub.store.getHookSubscription('favorite.deleted');
    expect(subscription?.secret).toBe(newSecret);
    expect(subscription?.previous).toBeUndefined();
  });

  it('rotation by another process is seen here', async () => {
    await hub.secrets.expect('client.created', 60);
    expect(await handshake(hub, 'client.created', oldSecret)).toBe(200);
    expect(await deliver(hub, 'client.created', oldSecret, 4)).toBe(202);

    // A second HookSecrets on the same store and Redis, as another API process would have.
    const redis = await connectRedis(folder.settings.redisUrl, 'producer', createLogger('silent'));
    const store = await openStore(folder.settings.databaseUrl);
    try {
      const other = new HookSecrets(store, redis, folder.settings.queuePrefix, { graceSeconds: 3600 });
      await other.expect('client.created', 60, { rotate: true });
      expect(await other.handshake('client.created', newSecret)).toBe('rotated');
    } finally {
      redis.disconnect();
      await store.close();
    }

    expect(await eventually(async () => (await deliver(hub, 'client.created', newSecret, 5)) === 202)).toBe(true);
    expect(await deliver(hub, 'client.created', oldSecret, 6)).toBe(202);
  });

  it('hub webhooks expect --rotate opens a rotation window', async () => {
    const printed: string[] = [];
    const log = console.log;
    console.log = (line: string) => printed.push(line);
    try {
      await expectWebhooks(folder.settings, ['favorite.created'], 1, { rotate: true });
    } finally {
      console.log = log;
    }

    expect(await hub.secrets.openWindow('favorite.created')).toBe('rotate');
    expect(printed.join('\n')).toContain('the next handshake replaces the stored secret');
  });
});

describe('with a short grace period', () => {
  let folder: TestHubFolder;
  let hub: RunningHub;

  beforeAll(async () => {
    folder = await testHubSettings({ HOOK_SECRET_GRACE_SECONDS: '1' });
    hub = await startHub(folder.settings, 'api', createLogger('silent'));
    await hub.secrets.expect('favorite.created', 60);
    expect(await handshake(hub, 'favorite.created', oldSecret)).toBe(200);
  });

  afterAll(async () => {
    await hub?.close();
    await folder?.cleanup();
  });

  it('old secret stops verifying after the grace period', async () => {
    await hub.secrets.expect('favorite.created', 60, { rotate: true });
    expect(await handshake(hub, 'favorite.created', newSecret)).toBe(200);

    let favoriteId = 100;
    expect(await eventually(async () => (await deliver(hub, 'favorite.created', oldSecret, favoriteId++)) === 401)).toBe(true);
    expect(await deliver(hub, 'favorite.created', newSecret, favoriteId++)).toBe(202);
  });
});
