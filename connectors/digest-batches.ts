/**
 * Digest batches in Redis: deliveries that share a digest key (one client's email, say) within a window are
 * collected in one batch and sent together when the batch's flush job runs, one window after the first of them.
 *
 * Each step is atomic in Redis and safe to repeat. The flush job of a batch is added before any delivery joins it,
 * so a batch never contains deliveries without a job to send them. Closing a batch and reading it is one step, and a
 * delivery joins only a batch that is still open, so no delivery arrives after its batch was read. Deliveries stay
 * in Redis until the flush job has sent them and recorded the outcome, so a flush retried after a crash reads them
 * again.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Delivery } from './connector.js';

/** How long batch keys are kept at most, in seconds, so a batch whose flush job was removed by hand expires. */
const batchRetentionSeconds = 7 * 86_400;

/** Data of a flush job: which batch of which connector to send. */
export interface DigestJobData {
  digestId: string;
  /** The digest key the batch collects, such as "client:77". */
  digestKey: string;
}

const openOrGetScript = `
local id = redis.call('GET', KEYS[1])
if id then return {id, 0} end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return {ARGV[1], 1}
`;

const joinScript = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSETNX', KEYS[2], ARGV[1], ARGV[2])
redis.call('EXPIRE', KEYS[2], ARGV[3])
return 1
`;

const closeScript = `
redis.call('SET', KEYS[1], '1', 'EX', ARGV[2])
if redis.call('GET', KEYS[2]) == ARGV[1] then redis.call('DEL', KEYS[2]) end
return redis.call('HGETALL', KEYS[3])
`;

export class DigestBatches {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly connector: string,
    /** The digest window in milliseconds. */
    private readonly windowMs: number,
  ) {}

  private openKey(digestKey: string): string {
    const digest = createHash('sha256').update(digestKey).digest('hex').slice(0, 32);
    return `${this.prefix}:digest:${this.connector}:open:${digest}`;
  }

  private batchKeys(digestId: string): { closed: string; items: string } {
    const base = `${this.prefix}:digest:${this.connector}:batch:${digestId}`;
    return { closed: `${base}:closed`, items: `${base}:items` };
  }

  /**
   * Returns the id of the open batch for the key, opening one when there is none. `opened` is true for a new batch;
   * the caller must make sure its flush job exists before joining it.
   */
  async openOrGet(digestKey: string): Promise<{ digestId: string; opened: boolean }> {
    // The open marker outlives the window a little, so that the flush job, not expiry, normally closes the batch.
    const ttlMs = this.windowMs + 60_000;
    const [digestId, opened] = (await this.redis.eval(openOrGetScript, 1, this.openKey(digestKey), randomUUID(), ttlMs)) as [string, number];
    return { digestId, opened: opened === 1 };
  }

  /** Adds the delivery to the batch unless the batch is closed. Returns false when it is closed. */
  async join(digestId: string, delivery: Delivery): Promise<boolean> {
    const { closed, items } = this.batchKeys(digestId);
    const joined = await this.redis.eval(joinScript, 2, closed, items, delivery.key, JSON.stringify(delivery), batchRetentionSeconds);
    return joined === 1;
  }

  /** Closes the batch so no delivery joins it any more, and returns its deliveries in the order they were received. */
  async close(digestId: string, digestKey: string): Promise<Delivery[]> {
    const { closed, items } = this.batchKeys(digestId);
    const flat = (await this.redis.eval(closeScript, 3, closed, this.openKey(digestKey), items, digestId, batchRetentionSeconds)) as string[];

    const deliveries: Delivery[] = [];
    for (let index = 1; index < flat.length; index += 2) deliveries.push(JSON.parse(flat[index]!) as Delivery);
    return deliveries.sort((a, b) => a.receivedAt.localeCompare(b.receivedAt) || a.key.localeCompare(b.key));
  }

  /** Removes a batch whose deliveries are all recorded. */
  async remove(digestId: string): Promise<void> {
    const { items } = this.batchKeys(digestId);
    await this.redis.del(items);
  }
}
