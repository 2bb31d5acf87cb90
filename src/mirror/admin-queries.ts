/**
 * SQL of the admin event log and delivery list, shared by the SQLite and PostgreSQL stores. Each query is built
 * with only the conditions its filters need, so that the planner of either database can pick the index that
 * matches: `event_subjects (kind, value, received_at, event_id)` for a filter by listing or client,
 * `events (event | outcome, received_at, event_id)` for the others.
 */
import type { DeliverySearch, EventSearch } from './store.js';

/** Adds a bound value and returns its placeholder: `?` for SQLite, `$1`, `$2`… for PostgreSQL. */
export type Bind = (value: unknown) => string;

/** Rows of one admin page when the caller gives no limit. */
export const defaultPageSize = 100;

/**
 * Builds the SELECT of `Store.searchEvents`. With subject filters the query starts from the first subject's index
 * range and probes the others by primary key; without them it reads `events` alone.
 */
export function eventSearchSql(search: EventSearch, bind: Bind): string {
  const [first, ...others] = search.subjects ?? [];
  const conditions: string[] = [];
  let from = 'events e';
  let order = 'e';

  if (first) {
    from = 'event_subjects s JOIN events e ON e.event_id = s.event_id';
    order = 's';
    conditions.push(`s.kind = ${bind(first.kind)}`, `s.value = ${bind(first.value)}`);
  }
  others.forEach((subject, index) => {
    const alias = `x${index}`;
    conditions.push(
      `EXISTS (SELECT 1 FROM event_subjects ${alias} WHERE ${alias}.kind = ${bind(subject.kind)} AND ` +
        `${alias}.value = ${bind(subject.value)} AND ${alias}.received_at = e.received_at AND ${alias}.event_id = e.event_id)`,
    );
  });
  if (search.event !== undefined) conditions.push(`e.event = ${bind(search.event)}`);
  if (search.outcome !== undefined) conditions.push(`e.outcome = ${bind(search.outcome)}`);
  if (search.since !== undefined) conditions.push(`${order}.received_at >= ${bind(search.since)}`);
  if (search.until !== undefined) conditions.push(`${order}.received_at < ${bind(search.until)}`);
  if (search.after !== undefined) {
    conditions.push(`(${order}.received_at, ${order}.event_id) < (${bind(search.after.receivedAt)}, ${bind(search.after.eventId)})`);
  }

  const where = conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '';
  const limit = Math.max(0, search.limit ?? defaultPageSize);
  return `SELECT e.* FROM ${from} ${where} ORDER BY ${order}.received_at DESC, ${order}.event_id DESC LIMIT ${bind(limit)}`;
}

/** Builds the SELECT of `Store.searchDeliveries`. */
export function deliverySearchSql(search: DeliverySearch, bind: Bind): string {
  const conditions: string[] = [];
  if (search.status !== undefined) conditions.push(`status = ${bind(search.status)}`);
  if (search.connector !== undefined) conditions.push(`connector = ${bind(search.connector)}`);
  if (search.ruleId !== undefined) conditions.push(`rule_id = ${bind(search.ruleId)}`);
  if (search.eventId !== undefined) conditions.push(`event_id = ${bind(search.eventId)}`);
  if (search.since !== undefined) conditions.push(`updated_at >= ${bind(search.since)}`);
  if (search.until !== undefined) conditions.push(`updated_at < ${bind(search.until)}`);

  const where = conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '';
  const limit = Math.max(0, search.limit ?? defaultPageSize);
  return `SELECT * FROM deliveries ${where} ORDER BY updated_at DESC, key DESC LIMIT ${bind(limit)}`;
}

/** Sorts subjects by kind then value and drops repeats, so both stores return them alike. */
export function sortSubjects<T extends { kind: string; value: string }>(subjects: readonly T[]): T[] {
  const seen = new Set<string>();
  const unique = subjects.filter((subject) => {
    const id = `${subject.kind}\n${subject.value}`;
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
  return unique.sort((a, b) => (a.kind === b.kind ? compareText(a.value, b.value) : compareText(a.kind, b.kind)));
}

/** Compares by UTF-16 code units, which matches byte order for the ASCII ids the hub stores. */
function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
