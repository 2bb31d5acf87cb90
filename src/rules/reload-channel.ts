/**
 * Reload requests over Redis pub/sub. `hub rules reload` publishes on `<QUEUE_PREFIX>:rules:reload`; every worker
 * process subscribes to it, reloads its rules folder and publishes the outcome on `<QUEUE_PREFIX>:rules:reloaded`,
 * so the command can report which processes took the new version and which kept the old one.
 */
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type { Cluster, Redis } from 'ioredis';

export function reloadChannel(prefix: string): string {
  return `${prefix}:rules:reload`;
}

export function reloadReplyChannel(prefix: string): string {
  return `${prefix}:rules:reloaded`;
}

export interface ReloadRequest {
  requestId: string;
  requestedAt: string;
}

/** The outcome of a reload request in one process. */
export interface ReloadReply {
  requestId: string;
  host: string;
  pid: number;
  outcome: 'replaced' | 'unchanged' | 'failed';
  /** The version live after the reload: the new one, or the kept one when the reload failed. */
  version: string;
  /** Problems of a failed reload, formatted as `hub rules check` prints them; at most 20. */
  problems: string[];
}

export function replyIdentity(): Pick<ReloadReply, 'host' | 'pid'> {
  return { host: os.hostname(), pid: process.pid };
}

export function parseReloadRequest(message: string): ReloadRequest | null {
  try {
    const parsed = JSON.parse(message) as Partial<ReloadRequest> | null;
    if (parsed && typeof parsed.requestId === 'string') return { requestId: parsed.requestId, requestedAt: String(parsed.requestedAt ?? '') };
  } catch {
    // Not from `hub rules reload`; the process still reloads, but cannot reply.
  }
  return null;
}

export interface ReloadRequestResult {
  requestId: string;
  /** Processes subscribed when the request was published, as Redis counted them. */
  receivers: number;
  replies: ReloadReply[];
}

/**
 * Returns how many clients listen on `channel`. On a single Redis that is the count PUBLISH returned. A Redis Cluster
 * forwards a message to every node, but PUBLISH counts only the subscribers connected to the node that took it, so
 * there the subscribers of every node are added up.
 */
async function countReceivers(publisher: Redis, channel: string, published: number): Promise<number> {
  const cluster = publisher as unknown as Partial<Cluster> & { isCluster?: boolean };
  if (!cluster.isCluster || !cluster.nodes) return published;
  let total = 0;
  for (const node of cluster.nodes('all')) {
    const [, count] = (await node.pubsub('NUMSUB', channel)) as [string, number];
    total += Number(count);
  }
  return total;
}

/**
 * Publishes a reload request and collects replies until every receiving process has replied or `timeoutMs` has
 * passed. `subscriber` is put in subscriber mode and must not be used for other commands afterwards.
 */
export async function publishReloadRequest(
  publisher: Redis,
  subscriber: Redis,
  prefix: string,
  timeoutMs: number,
): Promise<ReloadRequestResult> {
  const request: ReloadRequest = { requestId: randomUUID(), requestedAt: new Date().toISOString() };
  const replies: ReloadReply[] = [];
  let receivers = Number.POSITIVE_INFINITY;
  let finish: () => void = () => {};
  const done = new Promise<void>((resolve) => (finish = resolve));

  subscriber.on('message', (channel: string, message: string) => {
    if (channel !== reloadReplyChannel(prefix)) return;
    let reply: ReloadReply;
    try {
      reply = JSON.parse(message) as ReloadReply;
    } catch {
      return;
    }
    if (reply.requestId !== request.requestId) return;
    replies.push(reply);
    if (replies.length >= receivers) finish();
  });
  // Subscribing before publishing, so no reply can arrive unheard.
  await subscriber.subscribe(reloadReplyChannel(prefix));

  receivers = await countReceivers(publisher, reloadChannel(prefix), await publisher.publish(reloadChannel(prefix), JSON.stringify(request)));
  if (replies.length >= receivers) finish();
  const timer = setTimeout(finish, timeoutMs);
  await done;
  clearTimeout(timer);
  await subscriber.unsubscribe(reloadReplyChannel(prefix));
  return { requestId: request.requestId, receivers, replies };
}
