/**
 * Drill: a broken rule file pushed live. While price-drop emails flow, a file that is not valid JSON is written into
 * the rules folder that the worker watches, then a rule naming an unknown connector. Later both are removed. The
 * worker must reject each broken folder, keep the previous rule set live, and lose no email.
 *
 * Run: npx tsx drills/broken-rules.ts   (DRILL_RULES_EVENTS=200, DRILL_RULES_RATE=20, DRILL_DEADLINE_SECONDS=150)
 */
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { numberSetting, runDrill } from './support/drill-harness.js';
import { emailPriceDropRule, priceDropWebhook } from './support/drill-world.js';

const events = numberSetting('DRILL_RULES_EVENTS', 200);
const rate = numberSetting('DRILL_RULES_RATE', 20);
const deadlineSeconds = numberSetting('DRILL_DEADLINE_SECONDS', 150);

const unknownConnectorRule = {
  id: 'drill-broken-connector',
  description: 'Names a connector the hub does not have, so the folder fails its check.',
  events: ['listing.updated'],
  when: true,
  actions: [{ connector: 'fax', template: 'price-drop', to: 'clients' }],
};

await runDrill(
  {
    name: 'broken-rules',
    title: 'a broken rule file pushed live while the worker routes events',
    rules: [emailPriceDropRule],
    clients: Math.min(events, 200),
  },
  async (drill) => {
    await drill.startProcess('api');
    await drill.startProcess('worker');
    await drill.connect(['favorite.created', 'listing.updated']);
    await drill.seedFavorites();

    const syntaxFile = path.join(drill.rulesDir, 'drill-broken-syntax.json');
    const connectorFile = path.join(drill.rulesDir, 'drill-broken-connector.json');
    const steps = new Map<number, () => Promise<void>>([
      [Math.floor(events * 0.25), () => writeFile(syntaxFile, '{ "id": "drill-broken-syntax", "description": "cut off while saving", ')],
      [Math.floor(events * 0.5), () => writeFile(connectorFile, JSON.stringify(unknownConnectorRule, null, 2))],
      [Math.floor(events * 0.75), async () => {
        await rm(syntaxFile);
        await rm(connectorFile);
      }],
    ]);
    const webhooks = Array.from({ length: events }, (_unused, index) => priceDropWebhook(drill.world, index));
    await drill.sendLoad(webhooks, rate, async (index) => {
      await steps.get(index)?.();
    });

    const complete = await drill.waitForDeliveries(deadlineSeconds * 1000);
    if (!complete) drill.notes.push(`deadline of ${deadlineSeconds} s after the last webhook passed before every email arrived`);

    // The watcher reloads about a quarter of a second after the last write; give the last step time to show.
    await sleep(1000);
    const failedReloads = await drill.countLogLines((line) => line.includes('rules reload failed, previous rule set kept'));
    drill.notes.push(`the worker rejected ${failedReloads} reload(s) of a broken folder and kept the previous rule set`);
    if (failedReloads < 2) drill.problems.push(`expected at least 2 rejected reloads (one per broken file); the worker log shows ${failedReloads}`);
  },
);
