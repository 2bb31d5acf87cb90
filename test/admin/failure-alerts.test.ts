/**
 * The failure-threshold alert with real parts: failed deliveries in an SQLite store, the connectors' alerter on the
 * real Redis, and an SMTP sink as the admin's mailbox.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAlerter } from '../../connectors/alerts.js';
import { failureAlertCode, startFailureAlerts } from '../../src/alerts/failure-alerts.js';
import { createLogger } from '../../src/logger.js';
import { SqliteStore } from '../../src/mirror/sqlite/sqlite-store.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';
import { redisUrl } from '../helpers/test-hub.js';

let dir: string;
let store: SqliteStore;
let redis: Redis;
let smtp: SmtpSink;
let prefix: string;

const now = Date.parse('2026-03-01T12:00:00.000Z');
const minutesAgo = (minutes: number) => new Date(now - minutes * 60_000).toISOString();

async function fail(connector: string, count: number, at: string): Promise<void> {
  const keys = Array.from({ length: count }, () => randomBytes(8).toString('hex'));
  await store.recordDeliveries(
    keys.map((key) => ({ key, eventId: 'e1', ruleId: 'price-drop-email', ruleSetVersion: 'v1', connector, recipient: 'client:1' })),
    at,
  );
  for (const key of keys) await store.setDeliveryStatus(key, 'failed', { error: 'SMTP 550 <ada@clients.example> refused' }, at);
}

function alerts(threshold: number, intervalSeconds = 900) {
  const alerter = createAlerter(
    { slackChannel: null, email: 'ops@hub.example', intervalSeconds, slackToken: null, slackApiUrl: null, smtpUrl: smtp.url, mailFrom: 'hub@hub.example', outboxDir: dir },
    redis,
    prefix,
    createLogger('silent'),
  );
  return startFailureAlerts({
    store,
    alerter,
    connectors: ['email', 'slack'],
    threshold,
    windowSeconds: 900,
    intervalSeconds,
    logger: createLogger('silent'),
    checkEveryMs: 3_600_000,
  });
}

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'hub-alerts-'));
  store = new SqliteStore(path.join(dir, 'hub.sqlite'));
  await store.migrate();
  redis = new Redis(redisUrl);
  smtp = await startSmtpSink();
  prefix = `hub-test-${randomBytes(5).toString('hex')}`;
});

afterEach(async () => {
  for (const connector of ['email', 'slack']) {
    const key = `${prefix}:alert:${connector}:${failureAlertCode}`;
    await redis.del(key, `${key}:suppressed`);
  }
  redis.disconnect();
  await smtp.close();
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

describe('failure threshold alert', () => {
  it('mails the admin once the threshold is reached', async () => {
    await fail('email', 3, minutesAgo(5));
    const monitor = alerts(3);

    await monitor.check(now);
    monitor.stop();

    expect(smtp.messages).toHaveLength(1);
    expect(smtp.envelopes[0]).toEqual(['ops@hub.example']);
    expect(smtp.messages[0]!.subject).toContain(failureAlertCode);
    expect(smtp.messages[0]!.text).toContain('At least 3 email deliveries failed in the last 15 minutes');
    expect(smtp.messages[0]!.text).not.toContain('ada@clients.example');
  });

  it('sends one alert per interval', async () => {
    await fail('email', 3, minutesAgo(5));
    const monitor = alerts(3);

    await monitor.check(now);
    await monitor.check(now + 60_000);
    monitor.stop();

    expect(smtp.messages).toHaveLength(1);
  });

  it('second process is held back by Redis', async () => {
    await fail('email', 3, minutesAgo(5));
    const first = alerts(3);
    const second = alerts(3);

    await first.check(now);
    await second.check(now);
    first.stop();
    second.stop();

    expect(smtp.messages).toHaveLength(1);
  });

  it('stays quiet below the threshold', async () => {
    await fail('slack', 2, minutesAgo(5));
    const monitor = alerts(3);

    await monitor.check(now);
    monitor.stop();

    expect(smtp.messages).toHaveLength(0);
  });

  it('ignores failures older than the window', async () => {
    await fail('email', 3, minutesAgo(20));
    const monitor = alerts(3);

    await monitor.check(now);
    monitor.stop();

    expect(smtp.messages).toHaveLength(0);
  });

  it('threshold 0 turns the alert off', async () => {
    await fail('email', 5, minutesAgo(1));
    const monitor = alerts(0);

    await monitor.check(now);
    monitor.stop();

    expect(smtp.messages).toHaveLength(0);
  });
});
