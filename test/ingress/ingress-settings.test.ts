/** The ingress settings: secret header names, rotation grace, retention, queue bounds and the sources file. */
import { describe, expect, it } from 'vitest';
import { loadSettings, SettingsError } from '../../src/config/settings.js';

describe('ingress settings', () => {
  it('defaults', () => {
    const settings = loadSettings({});
    expect(settings.hookSecretHeaders).toEqual(['x-hook-secret', 'x-api-key']);
    expect(settings.hookSecretHeader).toBe('x-hook-secret');
    expect(settings.hookSecretGraceSeconds).toBe(86_400);
    expect(settings.eventRetentionDays).toBe(30);
    expect(settings.eventsKeepCompleted).toBe(10_000);
    expect(settings.eventsKeepFailed).toBe(10_000);
    expect(settings.sourcesFile).toBeNull();
  });

  it('header list is lower-cased without repeats', () => {
    const settings = loadSettings({ HOOK_SECRET_HEADER: ' X-Api-Key , x-hook-secret,x-api-key ' });
    expect(settings.hookSecretHeaders).toEqual(['x-api-key', 'x-hook-secret']);
    expect(settings.hookSecretHeader).toBe('x-api-key');
  });

  const invalid: [Record<string, string>, RegExp][] = [
    [{ HOOK_SECRET_HEADER: 'x hook secret' }, /HOOK_SECRET_HEADER must list HTTP header names separated by commas.*got "x hook secret"/],
    [{ HOOK_SECRET_HEADER: ',' }, /HOOK_SECRET_HEADER must name at least one header/],
    [{ HOOK_SECRET_GRACE_SECONDS: '-1' }, /HOOK_SECRET_GRACE_SECONDS must be an integer from 0 to 2592000/],
    [{ EVENT_RETENTION_DAYS: '0' }, /EVENT_RETENTION_DAYS must be an integer from 1 to 3650/],
    [{ EVENTS_KEEP_COMPLETED: 'lots' }, /EVENTS_KEEP_COMPLETED must be an integer from 0 to 1000000/],
  ];
  for (const [env, message] of invalid) {
    it(`rejects ${Object.entries(env)[0]!.join('=')}`, () => {
      expect(() => loadSettings(env)).toThrow(SettingsError);
      expect(() => loadSettings(env)).toThrow(message);
    });
  }
});
