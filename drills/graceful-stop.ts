/**
 * Drill: SIGTERM during load. While webhooks arrive, the API process and the worker process both get SIGTERM, as a
 * deploy or a scale-down sends it. Each finishes the requests and jobs it has started, then exits. Both are started again (the API on the
 * same port) while the sender retries the refused connections, as Repliers would.
 *
 * The SMTP server delays each reply by 300 ms, so emails back up and the worker has sends in flight when the
 * signal comes.
 *
 * Run: npx tsx drills/graceful-stop.ts   (DRILL_SIGTERM_EVENTS=300, DRILL_SIGTERM_RATE=40, DRILL_SIGTERM_AT=0.3 of
 * the events sent, DRILL_SIGTERM_SMTP_DELAY_MS=300, DRILL_DEADLINE_SECONDS=150)
 */
import { numberSetting, runDrill } from './support/drill-harness.js';
import { emailPriceDropRule, priceDropWebhook } from './support/drill-world.js';

const events = numberSetting('DRILL_SIGTERM_EVENTS', 300);
const rate = numberSetting('DRILL_SIGTERM_RATE', 40);
const stopAt = numberSetting('DRILL_SIGTERM_AT', 0.3);
const replyDelayMs = numberSetting('DRILL_SIGTERM_SMTP_DELAY_MS', 300);
const deadlineSeconds = numberSetting('DRILL_DEADLINE_SECONDS', 150);

await runDrill(
  {
    name: 'graceful-stop',
    title: 'the API and the worker stopped with SIGTERM while webhooks arrive, then started again',
    rules: [emailPriceDropRule],
    clients: Math.min(events, 200),
  },
  async (drill) => {
    const api = await drill.startProcess('api');
    const worker = await drill.startProcess('worker');
    await drill.connect(['favorite.created', 'listing.updated']);
    await drill.seedFavorites();
    drill.smtp!.setReplyDelay(replyDelayMs);

    const stopIndex = Math.floor(events * stopAt);
    let restart: Promise<void> = Promise.resolve();
    const webhooks = Array.from({ length: events }, (_unused, index) => priceDropWebhook(drill.world, index));
    await drill.sendLoad(webhooks, rate, (index) => {
      if (index !== stopIndex) return;
      restart = (async () => {
        const active = await drill.activeJobs();
        const stopping = performance.now();
        const [apiExit, workerExit] = await Promise.all([api.stop('SIGTERM'), worker.stop('SIGTERM')]);
        const stopSeconds = (performance.now() - stopping) / 1000;
        drill.notes.push(
          `SIGTERM after ${index} webhooks sent (active jobs: ${active}); API exited ${apiExit}, worker exited ${workerExit}, both within ${stopSeconds.toFixed(1)} s`,
        );
        if (apiExit !== 0 || workerExit !== 0) drill.problems.push(`a process did not exit 0 after SIGTERM (API ${apiExit}, worker ${workerExit})`);
        const sending = await drill.store.searchDeliveries({ status: 'sending', limit: 1000 });
        if (sending.length > 0) drill.problems.push(`${sending.length} deliveries left in 'sending' by a graceful stop`);
        await drill.startProcess('api', api.port);
        await drill.startProcess('worker');
        drill.notes.push(`API and worker started again ${((performance.now() - stopping) / 1000).toFixed(1)} s after the SIGTERM`);
      })();
    });
    await restart;

    const complete = await drill.waitForDeliveries(deadlineSeconds * 1000);
    if (!complete) drill.notes.push(`deadline of ${deadlineSeconds} s after the last webhook passed before every email arrived`);
  },
);
