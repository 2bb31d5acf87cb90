import { describe, expect, it } from 'vitest';
import { loadSettings, SettingsError } from '../../src/config/settings.js';
import { deliveryWorkerSettings } from '../../src/workers/delivery-worker.js';

describe('delivery settings', () => {
  it('give each connector its own limits', () => {
    const settings = loadSettings({ EMAIL_CONCURRENCY: '7', SLACK_RATE_LIMIT_PER_MINUTE: '30', EMAIL_DIGEST_WINDOW_SECONDS: '120', CONNECTOR_PAUSE_SECONDS: '600' });

    expect(deliveryWorkerSettings(settings, 'email')).toMatchObject({ concurrency: 7, ratePerMinute: 0, digestWindowMs: 120_000, pauseMs: 600_000 });
    expect(deliveryWorkerSettings(settings, 'slack')).toMatchObject({ concurrency: 4, ratePerMinute: 30, digestWindowMs: 0 });
    expect(deliveryWorkerSettings(settings, 'webhook')).toMatchObject({ concurrency: 10, ratePerMinute: 0 });
  });

  it('read webhook targets and allowed addresses', () => {
    const settings = loadSettings({
      WEBHOOK_TARGETS: 'crm=https://crm.example.com/hooks, erp=http://erp.example.com/in',
      WEBHOOK_ALLOWED_ADDRESSES: '127.0.0.1,10.0.0.0/8,fd00::/8',
      WEBHOOK_SECRET: `whsec_${Buffer.alloc(32, 7).toString('base64')}`,
    });

    expect(settings.webhook.targets).toEqual({ crm: 'https://crm.example.com/hooks', erp: 'http://erp.example.com/in' });
    expect(settings.webhook.allowedAddresses).toEqual(['127.0.0.1', '10.0.0.0/8', 'fd00::/8']);
  });

  const invalid: Array<[Record<string, string>, string]> = [
    [{ EMAIL_CONCURRENCY: '0' }, 'EMAIL_CONCURRENCY must be an integer from 1 to 256'],
    [{ SLACK_RATE_LIMIT_PER_MINUTE: 'fast' }, 'SLACK_RATE_LIMIT_PER_MINUTE must be an integer'],
    [{ WEBHOOK_SECRET: 'plain-secret' }, 'WEBHOOK_SECRET must be "whsec_"'],
    [{ WEBHOOK_SECRET: 'whsec_c2hvcnQ=' }, 'base64 of 24 to 64 random bytes'],
    [{ WEBHOOK_TARGETS: 'https://crm.example.com' }, 'WEBHOOK_TARGETS must list name=url pairs'],
    [{ WEBHOOK_TARGETS: 'crm=ftp://crm.example.com' }, 'WEBHOOK_TARGETS must use https: or http:'],
    [{ WEBHOOK_ALLOWED_ADDRESSES: 'localhost' }, 'WEBHOOK_ALLOWED_ADDRESSES must list IP addresses or CIDR ranges'],
    [{ WEBHOOK_ALLOWED_ADDRESSES: '10.0.0.0/33' }, 'WEBHOOK_ALLOWED_ADDRESSES must list IP addresses or CIDR ranges'],
    [{ UNSUBSCRIBE_SECRET: 'short' }, 'UNSUBSCRIBE_SECRET must be at least 16 characters'],
    [{ PUBLIC_URL: 'hub.example.com' }, 'PUBLIC_URL must be a URL'],
  ];

  for (const [env, message] of invalid) {
    it(`reject ${Object.keys(env)[0]}=${Object.values(env)[0]}`, () => {
      expect(() => loadSettings(env)).toThrow(SettingsError);
      expect(() => loadSettings(env)).toThrow(message);
    });
  }
});
