/**
 * Drill: duplicate and out-of-order deliveries. Every webhook is sent twice, in a shuffled order, and half of the
 * favorites get their favorite.deleted before their favorite.created. Then every favorite gets a price drop, again
 * each sent twice and shuffled.
 *
 * Expected: one Slack message per favorite.created of a favorite tagged `drill-a` (the favorites never deleted). The
 * mirror shows the others deleted, whatever order their webhooks took. The price drops email only the clients whose
 * favorite is still saved, once each.
 *
 * Run: npx tsx drills/duplicates-and-order.ts   (DRILL_DUPLICATES_FAVORITES=100, DRILL_DUPLICATES_RATE=50,
 * DRILL_DEADLINE_SECONDS=150)
 */
import { numberSetting, runDrill } from './support/drill-harness.js';
import { emailPriceDropRule, favoriteCreatedWebhook, favoriteDeletedWebhook, favoriteTaggedSlackRule, priceDropWebhook } from './support/drill-world.js';
import type { OutgoingWebhook } from './support/webhook-sender.js';
import { waitForEvents } from '../src/demo/wait-for-events.js';

const favorites = numberSetting('DRILL_DUPLICATES_FAVORITES', 100);
const rate = numberSetting('DRILL_DUPLICATES_RATE', 50);
const deadlineSeconds = numberSetting('DRILL_DEADLINE_SECONDS', 150);

/** Shuffles `items` in place with a seeded generator (mulberry32), so a failing order can be run again. */
function shuffle<T>(items: T[], seed: number): T[] {
  let state = seed >>> 0;
  const random = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  for (let index = items.length - 1; index > 0; index--) {
    const other = Math.floor(random() * (index + 1));
    [items[index], items[other]] = [items[other]!, items[index]!];
  }
  return items;
}

/** Moves the favorite.deleted copies of each favorite ahead of its favorite.created copies, keeping the slots. */
function deletesFirst(webhooks: OutgoingWebhook[]): OutgoingWebhook[] {
  const slots = new Map<string, number[]>();
  webhooks.forEach((webhook, index) => {
    const id = String((webhook.body as { data: { favoriteId: number } }).data.favoriteId);
    slots.set(id, [...(slots.get(id) ?? []), index]);
  });
  const ordered = [...webhooks];
  for (const indexes of slots.values()) {
    const copies = indexes.map((index) => webhooks[index]!);
    const deletes = copies.filter((webhook) => webhook.event === 'favorite.deleted');
    const creates = copies.filter((webhook) => webhook.event !== 'favorite.deleted');
    const group = [...deletes, ...creates];
    indexes.forEach((slot, position) => {
      ordered[slot] = group[position]!;
    });
  }
  return ordered;
}

const seed = numberSetting('DRILL_DUPLICATES_SEED', 20_260_101);
const isKept = (index: number) => index % 2 === 0;

await runDrill(
  {
    name: 'duplicates-and-order',
    title: 'every webhook sent twice and shuffled, favorite.deleted before favorite.created for half the favorites',
    rules: [favoriteTaggedSlackRule, emailPriceDropRule],
    clients: favorites,
    tagged: isKept,
  },
  async (drill) => {
    await drill.startProcess('api');
    await drill.startProcess('worker');
    await drill.connect(['favorite.created', 'favorite.deleted', 'listing.updated']);
    const { world } = drill;

    const favoriteWebhooks: OutgoingWebhook[] = [];
    world.favorites.forEach((_favorite, index) => {
      favoriteWebhooks.push(favoriteCreatedWebhook(world, index), favoriteCreatedWebhook(world, index));
      if (!isKept(index)) favoriteWebhooks.push(favoriteDeletedWebhook(world, index), favoriteDeletedWebhook(world, index));
    });
    const firstPhase = await drill.sender.sendAll(deletesFirst(shuffle(favoriteWebhooks, seed)), rate);
    drill.expectFor(
      // Labels end with the favorite's index; only the kept favorites are tagged drill-a.
      firstPhase.filter((webhook) => webhook.event === 'favorite.created' && isKept(Number(webhook.label.split('#')[1]))),
      [favoriteTaggedSlackRule],
    );
    const distinct = new Set(firstPhase.map((webhook) => webhook.eventId));
    drill.notes.push(`first phase: ${firstPhase.length} favorite webhooks sent, ${distinct.size} distinct event ids answered`);
    if (distinct.size !== firstPhase.length / 2) drill.problems.push(`expected ${firstPhase.length / 2} distinct event ids for ${firstPhase.length} webhooks sent twice; got ${distinct.size}`);
    await waitForEvents(drill.store, [...distinct].filter((id): id is string => id !== null), deadlineSeconds * 1000);

    const mirrored = await drill.store.getFavorites(world.favorites.map((favorite) => String(favorite.favoriteId)));
    let wrong = 0;
    world.favorites.forEach((favorite, index) => {
      const entry = mirrored.get(String(favorite.favoriteId));
      const deleted = entry?.favorite.deletedAt !== null && entry?.favorite.deletedAt !== undefined;
      if (!entry || deleted === isKept(index)) wrong += 1;
    });
    drill.notes.push(`mirror after the first phase: ${world.favorites.length - wrong} of ${world.favorites.length} favorites in the right state (saved, or deleted)`);
    if (wrong > 0) drill.problems.push(`${wrong} favorites in the wrong state in the mirror after favorite.deleted arrived before favorite.created`);

    const drops = world.favorites.flatMap((_favorite, index) => [priceDropWebhook(world, index), priceDropWebhook(world, index)]);
    const secondPhase = await drill.sender.sendAll(shuffle(drops, seed + 1), rate);
    drill.expectFor(
      secondPhase.filter((webhook) => isKept(Number(webhook.label.split('#')[1]))),
      [emailPriceDropRule],
    );
    drill.notes.push(`second phase: ${secondPhase.length} price-drop webhooks sent (each of ${world.favorites.length} twice); emails expected only for the ${world.favorites.filter((_f, index) => isKept(index)).length} favorites still saved`);

    const complete = await drill.waitForDeliveries(deadlineSeconds * 1000, 5000);
    if (!complete) drill.notes.push(`deadline of ${deadlineSeconds} s passed before every delivery arrived`);
  },
);
