/** No Docker engine runs where the tests run, so the compose file is checked by reading it. */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadSettings } from '../src/config/settings.js';
import { repoRoot } from './helpers/test-hub.js';

interface Service {
  image?: string;
  build?: unknown;
  command?: string[];
  ports?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: unknown;
}

const compose = parse(await readFile(path.join(repoRoot, 'docker-compose.yml'), 'utf8')) as { services: Record<string, Service> };
const envExample = await readFile(path.join(repoRoot, '.env.example'), 'utf8');

describe('docker-compose.yml', () => {
  it('has the four services', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['hub', 'mailpit', 'postgres', 'redis']);
  });

  it('runs Redis with append-only persistence', () => {
    const redis = compose.services.redis!;
    expect(redis.image).toMatch(/^redis:/);
    expect(redis.command).toContain('--appendonly');
    expect(redis.command![redis.command!.indexOf('--appendonly') + 1]).toBe('yes');
  });

  it('offers the mail catcher web inbox and SMTP', () => {
    expect(compose.services.mailpit!.ports).toEqual(expect.arrayContaining([expect.stringMatching(/:8025$/), expect.stringMatching(/:1025$/)]));
  });

  it('points the hub at the other services', () => {
    const hub = compose.services.hub!;
    expect(hub.build).toBe('.');
    expect(hub.environment!.REDIS_URL).toBe('redis://redis:6379');
    expect(hub.environment!.DATABASE_URL).toMatch(/^postgres:\/\/hub:hub@postgres:5432\/hub$/);
    expect(hub.environment!.SMTP_URL).toBe('smtp://mailpit:1025');
    expect(hub.depends_on!.redis!.condition).toBe('service_healthy');
    expect(hub.depends_on!.postgres!.condition).toBe('service_healthy');
  });

  it('gives the hub settings that pass validation', () => {
    const hub = compose.services.hub!;
    const settings = loadSettings(hub.environment);
    expect(settings.host).toBe('0.0.0.0');
    expect(settings.port).toBe(8080);
  });

  it('uses only variables listed in .env.example', () => {
    const listed = new Set([...envExample.matchAll(/^([A-Z_]+)=/gm)].map((match) => match[1]));
    for (const name of Object.keys(compose.services.hub!.environment!)) expect(listed).toContain(name);
  });
});
