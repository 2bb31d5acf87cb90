/**
 * Drill: the Salesforce session expiring under load. While price drops are logged as Tasks, the Salesforce
 * stand-in invalidates every access token it issued, several times. Each API call then gets 401 INVALID_SESSION_ID, so
 * jsforce requests a new token from the token endpoint (refresh token flow) and sends the call again.
 *
 * Run: npx tsx drills/salesforce-session.ts   (DRILL_SALESFORCE_EVENTS=150, DRILL_SALESFORCE_RATE=20,
 * DRILL_SALESFORCE_EXPIRIES=3 spread over the sending, DRILL_DEADLINE_SECONDS=150)
 */
import { numberSetting, runDrill } from './support/drill-harness.js';
import { priceDropWebhook, salesforcePriceDropRule } from './support/drill-world.js';

const events = numberSetting('DRILL_SALESFORCE_EVENTS', 150);
const rate = numberSetting('DRILL_SALESFORCE_RATE', 20);
const expiries = numberSetting('DRILL_SALESFORCE_EXPIRIES', 3);
const deadlineSeconds = numberSetting('DRILL_DEADLINE_SECONDS', 150);

await runDrill(
  {
    name: 'salesforce-session',
    title: `the Salesforce session expiring ${expiries} times under load`,
    rules: [salesforcePriceDropRule],
    clients: Math.min(events, 200),
  },
  async (drill) => {
    await drill.startProcess('api');
    await drill.startProcess('worker');
    await drill.connect(['favorite.created', 'listing.updated']);
    await drill.seedFavorites();
    const state = drill.salesforce!.state;

    const expiryIndexes = new Set(Array.from({ length: expiries }, (_unused, n) => Math.floor((events * (n + 1)) / (expiries + 1))));
    const tokensBefore = state.tokenRequests.length;
    const webhooks = Array.from({ length: events }, (_unused, index) => priceDropWebhook(drill.world, index));
    await drill.sendLoad(webhooks, rate, (index) => {
      if (!expiryIndexes.has(index)) return;
      state.expireSessions();
      drill.notes.push(`every access token invalidated after ${index} webhooks sent (${state.createdOf('Task').length} Tasks created by then)`);
    });

    const complete = await drill.waitForDeliveries(deadlineSeconds * 1000);
    // The seeding sends nothing to Salesforce, so the first token is taken during the load too.
    const tasks = state.createdOf('Task').length;
    drill.notes.push(
      `${state.tokenRequests.length - tokensBefore} token requests during the load (the first token and one per expiry: ${expiries + (tokensBefore === 0 ? 1 : 0)}); ` +
        `${state.requests.length} API calls for ${tasks} Tasks, ${(state.requests.length / Math.max(tasks, 1)).toFixed(1)} per Task, rejected calls included`,
    );
    if (!complete) drill.notes.push(`deadline of ${deadlineSeconds} s after the last webhook passed before every Task arrived`);
  },
);
