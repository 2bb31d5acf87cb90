/**
 * The admin page in headless Chromium, driven as an admin would: sign in, find the price drop by MLS number, read
 * why each client was emailed, retry the email the SMTP server rejected, and see it sent.
 *
 * Needs Debian's chromium at /usr/bin/chromium (`.ci/run` installs it). Without it the suite is skipped locally and
 * fails under CI.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { adminToken, startAdminWorld, type AdminWorld } from './admin-world.js';

const chromiumPath = '/usr/bin/chromium';
const chromiumArgs = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const present = existsSync(chromiumPath);
if (!present && process.env.CI) throw new Error(`${chromiumPath} is missing; .ci/run installs it with apt-get install -y chromium`);
if (!present) console.warn(`admin page tests skipped: ${chromiumPath} is missing (apt-get install -y chromium, or run .ci/run)`);

let world: AdminWorld;
let userDataDir: string;
let browser: BrowserContext;
let page: Page;
let priceDropId: string;
/** Markup in the listing's remarks, which the page must show as text. */
const markup = '<b id="injected">bold</b><img id="injected-image" src="x">';

describe.skipIf(!present)('admin page in Chromium', () => {
  beforeAll(async () => {
    world = await startAdminWorld(createLogger('silent'), { rejectFirst: 1 });
    priceDropId = await world.sendPriceDrop(0, '655000.00', { remarks: markup });
    userDataDir = await mkdtemp(path.join(os.tmpdir(), 'hub-chromium-'));
    browser = await chromium.launchPersistentContext(userDataDir, {
      executablePath: chromiumPath,
      headless: true,
      args: chromiumArgs,
      timeout: 60_000,
    });
    page = browser.pages()[0] ?? (await browser.newPage());
    page.setDefaultTimeout(30_000);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    if (userDataDir) await rm(userDataDir, { recursive: true, force: true });
    await world?.close();
  });

  it('signs in with the token', async () => {
    await page.goto(`${world.url}/admin/`);
    expect(await page.locator('#tabs').isVisible()).toBe(false);
    await page.getByLabel('Admin token (HUB_ADMIN_TOKEN)').fill(adminToken);
    await page.getByRole('button', { name: 'Sign in' }).click();

    await expect.poll(() => page.locator('#message').textContent()).toMatch(/\d+ events? shown/);
    expect(await page.locator('#tabs').isVisible()).toBe(true);
    expect(await page.evaluate("sessionStorage.getItem('hubAdminToken')")).toBe(adminToken);
  });

  it('finds the price drop by MLS number', async () => {
    await page.getByLabel('MLS number').fill(world.listings[0]!.mlsNumber);
    await page.getByRole('button', { name: 'Search' }).click();

    const rows = page.locator('#event-table tbody tr');
    await expect.poll(() => rows.count()).toBe(4);
    expect(await rows.first().locator('td').nth(1).textContent()).toBe('listing.updated');
    expect(await rows.first().getByRole('button').getAttribute('title')).toBe(priceDropId);
  });

  it('shows why each client was emailed', async () => {
    await page.locator('#event-table tbody tr').first().getByRole('button').click();

    const detail = page.getByRole('article', { name: 'Event detail' });
    await expect.poll(() => detail.locator('#detail-id').textContent()).toBe(priceDropId);
    const rule = detail.locator('#detail-rules li', { hasText: 'price-drop-email' });
    expect(await rule.textContent()).toContain('Email every client whose favorite the update lists');
    expect(await rule.textContent()).toContain('dropped');

    const emailRows = detail.locator('#delivery-table tbody tr', { hasText: 'price-drop-email' });
    expect(await emailRows.count()).toBe(3);
    const fans = world.world.favorites.filter((favorite) => favorite.mlsNumber === world.listings[0]!.mlsNumber).map((favorite) => `client:${favorite.clientId}`);
    const recipients = await emailRows.locator('td:nth-child(3)').allTextContents();
    expect(recipients.sort()).toEqual(fans.sort());
    expect(await detail.locator('#detail-summary').textContent()).toContain('verified');
  });

  it('retries the rejected email until it is sent', async () => {
    const failedRow = page.locator('#delivery-table tbody tr', { hasText: 'failed' });
    await expect.poll(() => failedRow.count()).toBe(1);
    const key = await failedRow.getAttribute('data-key');
    expect(await failedRow.textContent()).toContain('550');
    const mailsBefore = world.smtp.messages.length;

    await failedRow.getByRole('button', { name: 'Retry' }).click();

    const row = page.locator(`#delivery-table tbody tr[data-key="${key}"]`);
    await expect.poll(() => row.locator('td.status').textContent(), { timeout: 30_000 }).toBe('sent');
    expect(await row.locator('td:nth-child(5)').textContent()).toBe('2');
    expect(world.smtp.messages.length).toBe(mailsBefore + 1);
    expect((await world.hub.store.getDelivery(key!))?.status).toBe('sent');
    // ADMIN_PAGE_SCREENSHOT=<file.png> keeps a picture of the page at this point, to look at by eye.
    if (process.env.ADMIN_PAGE_SCREENSHOT) await page.screenshot({ path: process.env.ADMIN_PAGE_SCREENSHOT, fullPage: true });
  });

  it('rule tester previews the email', async () => {
    await page.getByRole('button', { name: 'Test rules on this event' }).click();

    await expect.poll(() => page.locator('#tester-summary').textContent()).toContain('Matched: ');
    expect(await page.locator('#tester-summary').textContent()).toContain('price-drop-email');
    const previews = page.locator('#tester-previews .preview', { hasText: 'price-drop' });
    expect(await previews.count()).toBe(3);
    expect(await previews.first().locator('pre').textContent()).toContain('$655,000');
  });

  it('shows payload data as text, never as markup', async () => {
    await page.getByRole('button', { name: 'Events' }).click();
    const payload = await page.locator('#detail-payload').textContent();

    expect(payload).toContain(JSON.stringify(markup).slice(1, -1));
    expect(await page.locator('#injected, #injected-image').count()).toBe(0);
  });
});
