/**
 * The admin event log: pages of recorded events under filters, and the detail of one event with its payload, its
 * verification, the rules that matched it and every delivery with its attempts, errors and idempotency key.
 */
import type { Job, Queue } from 'bullmq';
import type { DeliveryRecord, EventRecord } from '../mirror/records.js';
import type { EventSearch } from '../mirror/store.js';
import type { AdminContext } from './admin-context.js';

/** An event as the log lists it, without its payload. */
export interface EventSummary {
  eventId: string;
  event: string;
  source: string;
  receivedAt: string;
  outcome: string;
  outcomeDetail: string | null;
  ruleSetVersion: string | null;
  finishedAt: string | null;
}

export interface EventPage {
  events: EventSummary[];
  /** Pass as `cursor` for the next page; null on the last page. */
  nextCursor: string | null;
}

/** The state of a delivery's job in its connector queue, while BullMQ still keeps the job. */
export interface DeliveryJobInfo {
  state: string;
  attemptsMade: number;
  failedReason: string | null;
  /** The error of each failed attempt, first line only, oldest first. */
  errors: string[];
  finishedAt: string | null;
}

export interface DeliveryDetail extends DeliveryRecord {
  job: DeliveryJobInfo | null;
}

export interface MatchedRule {
  id: string;
  /** False when the live rule set no longer has the rule; description and condition are then null. */
  live: boolean;
  description: string | null;
  when: unknown;
  actions: unknown[];
}

export interface EventDetail {
  event: EventSummary & { path: string; replayCount: number };
  /** The body as received, parsed; the raw text when it is not JSON. */
  payload: unknown;
  verification: { verified: boolean; method: string };
  trace: {
    /** The rule set version of the latest routing. */
    ruleSetVersion: string | null;
    liveRuleSetVersion: string;
    /** Null when the event was routed before traces were recorded, or not routed yet. */
    matchedRules: MatchedRule[] | null;
    subjects: { kind: string; value: string }[];
  };
  deliveries: DeliveryDetail[];
}

export class CursorError extends Error {
  override readonly name = 'CursorError';
}

function summary(record: EventRecord): EventSummary {
  return {
    eventId: record.eventId,
    event: record.event,
    source: record.source,
    receivedAt: record.receivedAt,
    outcome: record.outcome,
    outcomeDetail: record.outcomeDetail,
    ruleSetVersion: record.ruleSetVersion,
    finishedAt: record.finishedAt,
  };
}

/** Encodes the position after `record` as an opaque cursor. */
export function encodeCursor(record: { receivedAt: string; eventId: string }): string {
  return Buffer.from(JSON.stringify([record.receivedAt, record.eventId])).toString('base64url');
}

/** Decodes a cursor from `encodeCursor`; throws CursorError for anything else. */
export function decodeCursor(cursor: string): { receivedAt: string; eventId: string } {
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(parsed) && parsed.length === 2 && parsed.every((part) => typeof part === 'string')) {
      return { receivedAt: parsed[0] as string, eventId: parsed[1] as string };
    }
  } catch {
    // Reported below with the same message as a well-formed but wrong cursor.
  }
  throw new CursorError('cursor is not one the event log returned; start again without it');
}

/** Returns one page of events, newest first. `limit` must already be validated. */
export async function listEventPage(context: AdminContext, search: EventSearch & { limit: number }): Promise<EventPage> {
  const records = await context.store.searchEvents(search);
  const last = records[records.length - 1];
  return {
    events: records.map(summary),
    nextCursor: records.length === search.limit && last ? encodeCursor(last) : null,
  };
}

function firstLine(text: string): string {
  const end = text.indexOf('\n');
  return end < 0 ? text : text.slice(0, end);
}

/** Reads what BullMQ still keeps about a delivery's job; null once the job is removed. */
export async function deliveryJobInfo(queue: Queue | undefined, key: string): Promise<DeliveryJobInfo | null> {
  if (!queue) return null;
  const job = (await queue.getJob(key)) as Job | undefined;
  if (!job) return null;
  return {
    state: await job.getState(),
    attemptsMade: job.attemptsMade,
    failedReason: job.failedReason || null,
    errors: (job.stacktrace ?? []).filter((stack): stack is string => typeof stack === 'string').map(firstLine),
    finishedAt: job.finishedOn ? new Date(job.finishedOn).toISOString() : null,
  };
}

/** Adds the BullMQ job state to each delivery record. */
export async function withJobInfo(context: AdminContext, records: readonly DeliveryRecord[]): Promise<DeliveryDetail[]> {
  return Promise.all(
    records.map(async (record) => ({ ...record, job: await deliveryJobInfo(context.deliveryQueues.get(record.connector), record.key) })),
  );
}

function parsePayload(payload: string): unknown {
  try {
    return JSON.parse(payload) as unknown;
  } catch {
    return payload;
  }
}

/** Returns the detail of one event, or null when the store does not hold it. */
export async function eventDetail(context: AdminContext, eventId: string): Promise<EventDetail | null> {
  const record = await context.store.getEvent(eventId);
  if (!record) return null;
  const trace = await context.store.getEventTrace(eventId);
  const ruleSet = context.ruleSet();
  const rulesById = new Map(ruleSet.rules.map((rule) => [rule.id, rule]));

  const matchedRules =
    trace?.matchedRules?.map((id): MatchedRule => {
      const rule = rulesById.get(id);
      if (!rule) return { id, live: false, description: null, when: null, actions: [] };
      return { id, live: true, description: rule.description, when: rule.when, actions: rule.actions };
    }) ?? null;

  return {
    event: { ...summary(record), path: record.path, replayCount: trace?.replayCount ?? 0 },
    payload: parsePayload(record.payload),
    verification: {
      verified: record.verified,
      method: record.source === 'repliers' ? 'hook secret in a request header, compared in constant time' : `signature of source "${record.source}"`,
    },
    trace: {
      ruleSetVersion: record.ruleSetVersion,
      liveRuleSetVersion: ruleSet.version,
      matchedRules,
      subjects: trace?.subjects ?? [],
    },
    deliveries: await withJobInfo(context, await context.store.listDeliveries(eventId)),
  };
}
