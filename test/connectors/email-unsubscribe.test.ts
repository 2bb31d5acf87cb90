import { mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import express from 'express';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { startHub } from '../../src/hub.js';
import { createLogger } from '../../src/logger.js';
import { SqliteStore } from '../../src/mirror/sqlite/sqlite-store.js';
import { createUnsubscribeRouter } from '../../src/unsubscribe/unsubscribe-router.js';
import { signUnsubscribeToken, unsubscribeUrl, verifyUnsubscribeToken } from '../../src/unsubscribe/unsubscribe-token.js';
import { testHubSettings } from '../helpers/test-hub.js';

const secret = 'unsubscribe-secret-for-tests';

describe('unsubscribe tokens', () => {
  it('round-trip the client id', () => {
    for (const clientId of ['77', 'c-ü-東京', 'a.b_c']) {
      expect(verifyUnsubscribeToken(secret, signUnsubscribeToken(secret, clientId))).toBe(clientId);
    }
  });

  it('reject another secret or an edited id', () => {
    const token = signUnsubscribeToken(secret, '77');
    const [, mac] = token.split('.');
    const edited = `${Buffer.from('78').toString('base64url')}.${mac}`;

    expect(verifyUnsubscribeToken('another-secret-of-some-length', token)).toBeNull();
    expect(verifyUnsubscribeToken(secret, edited)).toBeNull();
    expect(verifyUnsubscribeToken(secret, 'garbage')).toBeNull();
    expect(verifyUnsubscribeToken(secret, `${token}x`)).toBeNull();
  });

  it('build links under the public URL', () => {
    const link = new URL(unsubscribeUrl('https://example.com/hub/', secret, '77'));

    expect(`${link.origin}${link.pathname}`).toBe('https://example.com/hub/unsubscribe');
    expect(verifyUnsubscribeToken(secret, link.searchParams.get('token')!)).toBe('77');
  });
});

describe('unsubscribe page', () => {
  let dir: string;
  let store: SqliteStore;
  let server: Server;
  let base: string;

  async function serve(routerSecret: string | null): Promise<void> {
    const app = express();
    app.use(createUnsubscribeRouter({ store, secret: routerSecret, logger: createLogger('silent') }));
    server = await new Promise<Server>((resolve) => {
      const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
    });
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'unsubscribe-'));
    store = new SqliteStore(path.join(dir, 'hub.sqlite'));
    await store.migrate();
  });

  afterEach(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  const client = {
    clientId: '77',
    agentId: null,
    fname: 'Ada',
    lname: 'Lovelace',
    email: 'ada@example.com',
    phone: null,
    status: true,
    externalId: null,
    preferences: {},
    tags: [],
  };

  it('GET shows a button and changes nothing', async () => {
    await serve(secret);
    await store.upsertClient(client, '2024-05-01T10:00:00.000Z');

    const response = await fetch(`${base}/unsubscribe?token=${signUnsubscribeToken(secret, '77')}`);

    expect(response.status).toBe(200);
    const html = await response.text();
    expect(html).toContain('<form method="post" action="/unsubscribe?token=');
    expect((await store.getClients(['77'])).get('77')?.optedOutAt).toBeNull();
  });

  it('one-click POST opts out a known client', async () => {
    await serve(secret);
    await store.upsertClient(client, '2024-05-01T10:00:00.000Z');

    const response = await fetch(`${base}/unsubscribe?token=${signUnsubscribeToken(secret, '77')}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'List-Unsubscribe=One-Click',
    });

    expect(response.status).toBe(200);
    expect((await store.getClients(['77'])).get('77')?.optedOutAt).not.toBeNull();
  });

  it('POST keeps the opt-out of a client mirrored later', async () => {
    await serve(secret);

    const response = await fetch(`${base}/unsubscribe?token=${signUnsubscribeToken(secret, '77')}`, { method: 'POST' });
    await store.upsertClient(client, '2024-05-02T10:00:00.000Z');

    expect(response.status).toBe(200);
    expect((await store.getClients(['77'])).get('77')?.optedOutAt).not.toBeNull();
  });

  it('rejects a forged token', async () => {
    await serve(secret);
    await store.upsertClient(client, '2024-05-01T10:00:00.000Z');
    const forged = signUnsubscribeToken('some-other-secret-value', '77');

    const response = await fetch(`${base}/unsubscribe?token=${forged}`, { method: 'POST' });

    expect(response.status).toBe(400);
    expect((await store.getClients(['77'])).get('77')?.optedOutAt).toBeNull();
  });

  it('answers 404 without a secret', async () => {
    await serve(null);

    const response = await fetch(`${base}/unsubscribe?token=${signUnsubscribeToken(secret, '77')}`, { method: 'POST' });

    expect(response.status).toBe(404);
  });
});

describe('unsubscribe on a running hub', () => {
  it('serves the page and records the opt-out', async () => {
    const folder = await testHubSettings({ UNSUBSCRIBE_SECRET: secret, PUBLIC_URL: 'https://hub.example.com' });
    const hub = await startHub(folder.settings, 'api', createLogger('silent'));
    try {
      const token = signUnsubscribeToken(secret, 'c-404');

      const page = await fetch(`${hub.url}/unsubscribe?token=${token}`);
      const posted = await fetch(`${hub.url}/unsubscribe?token=${token}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'List-Unsubscribe=One-Click',
      });
      await hub.store.upsertClient({ ...clientOf('c-404') }, '2024-05-02T10:00:00.000Z');

      expect(page.status).toBe(200);
      expect(posted.status).toBe(200);
      expect((await hub.store.getClients(['c-404'])).get('c-404')?.optedOutAt).not.toBeNull();
    } finally {
      await hub.close();
      await folder.cleanup();
    }
  });
});

function clientOf(clientId: string) {
  return { clientId, agentId: null, fname: 'Ada', lname: 'Lovelace', email: 'ada@example.com', phone: null, status: true, externalId: null, preferences: {}, tags: [] };
}
