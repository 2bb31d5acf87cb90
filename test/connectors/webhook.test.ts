import { createHmac } from 'node:crypto';
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { ConnectorError, type Connector, type Delivery } from '../../connectors/connector.js';
import { allowListOf, isBlockedAddress, resolveChecked } from '../../connectors/webhook/address-guard.js';
import { retryAfterMs } from '../../connectors/webhook/retry-after.js';
import { signWebhook } from '../../connectors/webhook/signature.js';
import { createWebhookConnector, type WebhookSettings } from '../../connectors/webhook/webhook-connector.js';
import { startWebhookReceiver, type WebhookReceiver } from '../stand-ins/webhook-receiver.js';
import { describeConnectorContract } from './connector-contract.js';
import { makeDelivery, type DeliveryOverrides } from './fixtures.js';

const secret = `whsec_${Buffer.from('a secret of thirty-two bytes....').toString('base64')}`;

let receiver: WebhookReceiver;
const open: Connector[] = [];

function settingsFor(overrides: Partial<WebhookSettings> = {}): WebhookSettings {
  return {
    url: `${receiver.url}/hooks/clients`,
    targets: { crm: `${receiver.url}/hooks/crm` },
    secret,
    allowedAddresses: ['127.0.0.1'],
    timeoutMs: 2000,
    outboxDir: '/nonexistent',
    ...overrides,
  };
}

function connect(overrides: Partial<WebhookSettings> = {}): Connector {
  const connector = createWebhookConnector(settingsFor(overrides));
  open.push(connector);
  return connector;
}

function forWebhook(overrides: DeliveryOverrides = {}): Delivery {
  return makeDelivery({ action: { connector: 'webhook', template: 'event', to: 'clients' }, ...overrides });
}

async function caughtConnectorError(promise: Promise<unknown>): Promise<ConnectorError> {
  const error = await promise.then(
    () => null,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ConnectorError);
  return error as ConnectorError;
}

beforeAll(async () => {
  receiver = await startWebhookReceiver();
});

afterEach(async () => {
  await Promise.all(open.splice(0).map((connector) => connector.close()));
});

afterAll(async () => {
  await receiver.close();
});

describe('webhook signatures', () => {
  it('matches the Standard Webhooks example', () => {
    // The example of the Standard Webhooks specification: its secret, message id, timestamp, body and signature.
    const headers = signWebhook('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, '{"test": 2432232314}');

    expect(headers['webhook-signature']).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  it('signs what the receiver gets', async () => {
    const before = receiver.received.length;
    const delivery = forWebhook();

    await connect().send(delivery);

    const request = receiver.received[before]!;
    const id = String(request.headers['webhook-id']);
    const timestamp = String(request.headers['webhook-timestamp']);
    const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
    const expected = createHmac('sha256', key).update(`${id}.${timestamp}.${request.body}`).digest('base64');
    expect(request.headers['webhook-signature']).toBe(`v1,${expected}`);
    expect(id).toBe(delivery.key);
    expect(Math.abs(Number(timestamp) - Date.now() / 1000)).toBeLessThan(60);
    expect(request.path).toBe('/hooks/clients');
    expect(request.headers['content-type']).toBe('application/json');
  });

  it('keeps the id and changes the signature on a retry', async () => {
    const before = receiver.received.length;
    const delivery = forWebhook();
    const connector = connect();

    await connector.send(delivery);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    await connector.send(delivery);

    const [first, second] = receiver.received.slice(before);
    expect(second!.headers['webhook-id']).toBe(first!.headers['webhook-id']);
    expect(second!.headers['webhook-timestamp']).not.toBe(first!.headers['webhook-timestamp']);
    expect(second!.headers['webhook-signature']).not.toBe(first!.headers['webhook-signature']);
  });
});

describe('webhook body and targets', () => {
  it('carries the event and the delivery', async () => {
    const before = receiver.received.length;

    await connect().send(forWebhook());

    const body = JSON.parse(receiver.received[before]!.body);
    expect(body.type).toBe('listing.updated');
    expect(body.timestamp).toBe('2024-05-01T14:03:05.000Z');
    expect(body.data).toMatchObject({
      eventId: 'evt-1f0c',
      deliveryKey: 'evt-1f0c-price-drop-0-client-77',
      ruleId: 'price-drop',
      recipient: { kind: 'client', clientId: '77' },
      listing: { mlsNumber: '1421130', address: '62 Erin Crescent, Ottawa' },
      change: { price: { from: 699900, to: 674900, amount: -25000 } },
      client: { clientId: '77', email: 'ada.lovelace@example.com' },
      agent: { agentId: '5' },
    });
  });

  it('posts a channel rule to its named target', async () => {
    const before = receiver.received.length;

    await connect().send(forWebhook({ recipient: { kind: 'channel', channel: 'crm' }, action: { connector: 'webhook', template: 'event', to: { channel: 'crm' } } }));

    expect(receiver.received[before]!.path).toBe('/hooks/crm');
  });

  it('rejects a target the settings do not name', async () => {
    const error = await caughtConnectorError(connect().send(forWebhook({ recipient: { kind: 'channel', channel: 'erp' } })));

    expect(error).toMatchObject({ kind: 'permanent', code: 'WEBHOOK_TARGET_UNKNOWN' });
    expect(error.message).toContain('WEBHOOK_TARGETS');
  });

  it('rejects clients without WEBHOOK_URL', async () => {
    const error = await caughtConnectorError(connect({ url: null }).send(forWebhook()));

    expect(error).toMatchObject({ kind: 'permanent', code: 'WEBHOOK_URL_MISSING' });
  });
});

describe('webhook answers', () => {
  const cases: Array<{ answer: { status: number; retryAfter?: string }; kind: string; code: string; retryAfterMs?: number | null }> = [
    { answer: { status: 429, retryAfter: '12' }, kind: 'temporary', code: 'WEBHOOK_RATE_LIMITED', retryAfterMs: 12_000 },
    { answer: { status: 503 }, kind: 'temporary', code: 'WEBHOOK_UNAVAILABLE', retryAfterMs: null },
    { answer: { status: 410 }, kind: 'permanent', code: 'WEBHOOK_GONE' },
    { answer: { status: 401 }, kind: 'permanent', code: 'WEBHOOK_UNAUTHORIZED' },
    { answer: { status: 302 }, kind: 'permanent', code: 'WEBHOOK_REDIRECTED' },
    { answer: { status: 422 }, kind: 'permanent', code: 'WEBHOOK_REJECTED' },
  ];

  for (const testCase of cases) {
    it(`turns HTTP ${testCase.answer.status} into ${testCase.code}`, async () => {
      receiver.answerNext({ ...testCase.answer, body: 'field "x" missing' });

      const error = await caughtConnectorError(connect().send(forWebhook()));

      expect(error.kind).toBe(testCase.kind);
      expect(error.code).toBe(testCase.code);
      expect(error.message).toContain(`HTTP ${testCase.answer.status}`);
      if (testCase.retryAfterMs !== undefined) expect(error.retryAfterMs).toBe(testCase.retryAfterMs);
    });
  }

  it('times out a slow receiver as temporary', async () => {
    receiver.answerNext({ status: 200, delayMs: 1500 });

    const error = await caughtConnectorError(connect({ timeoutMs: 300 }).send(forWebhook()));

    expect(error).toMatchObject({ kind: 'temporary', code: 'WEBHOOK_TIMEOUT' });
  });

  it('reads Retry-After as seconds or a date', () => {
    const now = Date.parse('2024-05-01T10:00:00Z');
    expect(retryAfterMs('30', now)).toBe(30_000);
    expect(retryAfterMs('Wed, 01 May 2024 10:01:00 GMT', now)).toBe(60_000);
    expect(retryAfterMs('soon', now)).toBeNull();
    expect(retryAfterMs(undefined, now)).toBeNull();
  });
});

describe('webhook address guard', () => {
  const none = allowListOf([]);

  it('blocks private, loopback and link-local ranges', () => {
    // Classification only: nothing is sent to these addresses.
    for (const address of ['127.0.0.1', '127.8.9.10', '10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '::1', '::', 'fe80::1', 'fd12:3456::1', '::ffff:127.0.0.1', '::ffff:7f00:1', '::ffff:10.0.0.1', '64:ff9b::a9fe:a9fe']) {
      expect(isBlockedAddress(address, none), address).toBe(true);
    }
  });

  it('lets public addresses through', () => {
    for (const address of ['93.184.215.14', '172.32.0.1', '8.8.8.8', '2606:4700::1111', '::ffff:8.8.8.8']) {
      expect(isBlockedAddress(address, none), address).toBe(false);
    }
  });

  it('honours the allow-list', () => {
    const allowed = allowListOf(['127.0.0.1', '10.20.0.0/16']);

    expect(isBlockedAddress('127.0.0.1', allowed)).toBe(false);
    expect(isBlockedAddress('10.20.5.5', allowed)).toBe(false);
    expect(isBlockedAddress('127.0.0.2', allowed)).toBe(true);
    expect(isBlockedAddress('10.21.0.1', allowed)).toBe(true);
  });

  it('checks every address a name resolves to', async () => {
    await expect(resolveChecked('localhost', none)).rejects.toThrow(/resolves to/);
    await expect(resolveChecked('[::1]', none)).rejects.toThrow(/resolves to ::1/);
    expect(await resolveChecked('127.0.0.1', allowListOf(['127.0.0.1']))).toEqual({ address: '127.0.0.1', family: 4 });
  });

  it('refuses a loopback target not on the allow-list', async () => {
    const before = receiver.received.length;
    const connector = connect({ url: receiver.url.replace('127.0.0.1', '127.0.0.2'), allowedAddresses: [] });

    const error = await caughtConnectorError(connector.send(forWebhook()));

    expect(error).toMatchObject({ kind: 'permanent', code: 'WEBHOOK_ADDRESS_BLOCKED' });
    expect(error.message).toContain('WEBHOOK_ALLOWED_ADDRESSES');
    expect(receiver.received.length).toBe(before);
  });

  it('refuses localhost by name', async () => {
    const connector = connect({ url: receiver.url.replace('127.0.0.1', 'localhost'), allowedAddresses: [] });

    const error = await caughtConnectorError(connector.send(forWebhook()));

    expect(error.code).toBe('WEBHOOK_ADDRESS_BLOCKED');
  });
});

describe('webhook outbox', () => {
  it('writes the signed request when no URL is set', async () => {
    const outboxDir = await mkdtemp(path.join(os.tmpdir(), 'webhook-outbox-'));
    try {
      const connector = createWebhookConnector({ ...settingsFor(), url: null, targets: {}, outboxDir });
      expect(connector.mode).toBe('outbox');
      expect(connector.describe()).toContain('WEBHOOK_URL');

      const receipt = await connector.send(forWebhook());

      const written = JSON.parse(await readFile(receipt.id, 'utf8'));
      expect(written.request.headers['webhook-id']).toBe('evt-1f0c-price-drop-0-client-77');
      expect(written.request.headers['webhook-signature']).toMatch(/^v1,/);
      expect(written.request.body.data.listing.address).toBe('62 Erin Crescent, Ottawa');
    } finally {
      await rm(outboxDir, { recursive: true, force: true });
    }
  });

  it('stays in the outbox without a secret', () => {
    const connector = createWebhookConnector({ ...settingsFor(), secret: null });

    expect(connector.mode).toBe('outbox');
    expect(connector.describe()).toContain('WEBHOOK_SECRET');
  });
});

let contractReceiver: WebhookReceiver | null = null;

describeConnectorContract({
  name: 'webhook',
  outboxExtension: 'json',
  delivery: (suffix = '') => forWebhook({ key: `webhook-contract-${suffix}` }),
  async startLive() {
    contractReceiver = await startWebhookReceiver();
    return createWebhookConnector({ ...settingsFor(), url: `${contractReceiver.url}/hooks` });
  },
  async stopLive() {
    await contractReceiver?.close();
    contractReceiver = null;
  },
  acceptedCount: () => contractReceiver?.received.length ?? 0,
  outbox: (outboxDir) => createWebhookConnector({ ...settingsFor(), url: null, targets: {}, outboxDir }),
  failures: [
    {
      name: 'a 429 with Retry-After',
      arrange: (delivery) => {
        contractReceiver!.answerNext({ status: 429, retryAfter: '5' });
        return delivery;
      },
      kind: 'temporary',
      code: 'WEBHOOK_RATE_LIMITED',
    },
    {
      name: 'a 400',
      arrange: (delivery) => {
        contractReceiver!.answerNext({ status: 400 });
        return delivery;
      },
      kind: 'permanent',
      code: 'WEBHOOK_REJECTED',
    },
    {
      name: 'an unknown target',
      arrange: (delivery) => ({ ...delivery, recipient: { kind: 'channel', channel: 'unknown' } }),
      kind: 'permanent',
      code: 'WEBHOOK_TARGET_UNKNOWN',
    },
  ],
});
