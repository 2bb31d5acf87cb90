/** Without HUB_ADMIN_TOKEN the admin surface is off and explains how to turn it on, while the rest of the hub works. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHub, type RunningHub } from '../../src/hub.js';
import { createLogger } from '../../src/logger.js';
import { testHubSettings, type TestHubFolder } from '../helpers/test-hub.js';

const lines: string[] = [];
let folder: TestHubFolder;
let hub: RunningHub;

beforeAll(async () => {
  folder = await testHubSettings({ LOG_LEVEL: 'info' });
  hub = await startHub(folder.settings, 'api', createLogger('info', { write: (line: string) => void lines.push(line) }));
});

afterAll(async () => {
  await hub?.close();
  await folder?.cleanup();
});

describe('admin surface without a token', () => {
  it('start message says how to turn it on', () => {
    const start = lines.map((line) => JSON.parse(line) as { msg: string; level: number }).find((line) => line.msg.startsWith('admin surface off'));

    expect(start?.msg).toContain('HUB_ADMIN_TOKEN');
    expect(start?.level).toBe(40);
  });

  it('admin paths answer 404 with the fix', async () => {
    for (const path of ['/admin/', '/admin/api/events', '/admin/queues/', '/admin/login']) {
      const response = await fetch(`${hub.url}${path}`, { method: path === '/admin/login' ? 'POST' : 'GET' });
      const body = (await response.json()) as { code: string; error: string };

      expect(response.status, path).toBe(404);
      expect(body.code).toBe('ADMIN_DISABLED');
      expect(body.error).toContain('HUB_ADMIN_TOKEN');
    }
  });

  it('health and metrics stay on', async () => {
    expect((await fetch(`${hub.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${hub.url}/readyz`)).status).toBe(200);
    expect(await (await fetch(`${hub.url}/metrics`)).text()).toContain('hub_queue_jobs');
  });
});
