/**
 * Webhook ingress throughput and ack latency, side by side with two baselines, in one run:
 *
 * - Express doing nothing: `express.raw` reads the body, the route responds 202 (the framework's ceiling);
 * - Express by hand: `express.json`, a constant-time header check and `await queue.add`, then 202;
 * - the hub's ingress (API role, as `hub start --role api` runs it): verifies the hook secret, checks and parses the
 *   body, dedupes and enqueues on BullMQ, then 202;
 * - for information, the same ingress without the request-logging wrapper that `hub start` puts around every
 *   request, to show that wrapper's cost. The ratios that count are those of the hub as it runs.
 *
 * This process runs the servers on a real Redis under a unique key prefix. By default that is a redis-server of its
 * own on a free port (`--save "" --appendonly no`), so the Redis load of other programs does not blur the comparison.
 * With BENCH_REDIS=shared it is the one at REDIS_URL (default redis://127.0.0.1:6379). A second process, forked from
 * this file, loads them with autocannon: listing.updated bodies built from the 96 real Ottawa listings, each with its
 * own `timestamps.listingUpdated`, so no two bodies are equal and dedupe never skips an enqueue.
 *
 * All servers run at once on their own ports, idle but for the one under load. Each is measured in slices of
 * SLICE_SECONDS: first throughput (50 connections, as fast as they go), then latency at a fixed 1,000 requests/s evenly spaced
 * overall. The targets take turns slice by slice, so a change in the machine's load from other programs touches
 * them alike, and the medians over the slices are printed. The count of 202 responses is checked against the jobs
 * found in Redis, and every key the run made is deleted at the end.
 *
 * Run: npm run bench:ingest   (SLICES=10 SLICE_SECONDS=2 BENCH_REDIS=private by default; about 3 minutes)
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import http, { type Server } from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { Queue } from 'bullmq';
import express from 'express';
import { Redis } from 'ioredis';
import { loadSettings } from '../src/config/settings.js';
import { startHub, type RunningHub } from '../src/hub.js';
import { createLogger } from '../src/logger.js';
import { createIngressApp } from '../src/ingress/app.js';
import { startIngressServer, stopIngressServer } from '../src/ingress/ingress-server.js';
import { createEventsQueue, createRedis } from '../src/queue/queues.js';
import { startNodeRed } from './support/node-red-peer.js';

const slices = Number(process.env.SLICES ?? 10);
const sliceSeconds = Number(process.env.SLICE_SECONDS ?? 2);
const sharedRedis = process.env.BENCH_REDIS === 'shared';
/** Set in main() once the Redis to use is known. */
let redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const connections = 50;
const fixedRate = 1000;
/** Node-RED runs as a peer unless BENCH_PEER=none; it is installed outside the project on first use. */
const withPeer = process.env.BENCH_PEER !== 'none';
const peerName = 'Node-RED, HTTP in → 202 (peer)';
const secret = 'bench-secret-0123456789abcdef';
const event = 'listing.updated';
const routePath = `/webhooks/repliers/${event}`;
const listingsUrl = new URL('../../shared/data/repliers/listings-search-ottawa.json', import.meta.url);
const thisFile = fileURLToPath(import.meta.url);
const repoRoot = path.resolve(path.dirname(thisFile), '..');

/** Request to the load process, and its result. */
interface LoadRequest {
  url: string;
  headers: Record<string, string>;
  /** Each body is `parts[i][0] + JSON timestamp + parts[i][1]`, cycling through the listings. */
  parts: [string, string][];
  durationSeconds: number;
  overallRate?: number;
}

interface LoadResult {
  accepted: number;
  otherAnswers: Record<string, number>;
  errors: number;
  seconds: number;
  p50: number;
  p99: number;
}

interface Phase {
  perSecond: number;
  p50: number;
  p99: number;
}

// ---------------------------------------------------------------------------------------------------------------
// The load process: autocannon, forked from this file so it has a core of its own.

/** Requests sent by this load process so far: it numbers every body, so no two are equal across runs. */
let sent = 0;
const timestampBase = Date.UTC(2025, 0, 1);

/** Returns the next body of the rotation, numbered so that no two bodies are equal. */
function nextBody(request: LoadRequest): string {
  const [head, tail] = request.parts[sent % request.parts.length]!;
  const timestamp = new Date(timestampBase + sent).toISOString();
  sent += 1;
  return `${head}"${timestamp}"${tail}`;
}

/**
 * Sends `overallRate` requests per second, evenly spaced, over up to `connections` keep-alive connections, and
 * measures each latency from the time the request was due. autocannon's rate option is not used here: it lets each
 * connection send its share of a second back to back and then idle until the next second, so "1,000/s" would be a
 * burst at full speed once a second. Counting from the due time, as wrk2 does, keeps a stalled server from hiding
 * the requests it delayed.
 */
async function runPaced(request: LoadRequest & { overallRate: number }): Promise<LoadResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  const target = new URL(request.url);
  const intervalMs = 1000 / request.overallRate;
  const total = Math.round(request.overallRate * request.durationSeconds);
  const latencies: number[] = [];
  const otherAnswers: Record<string, number> = {};
  let accepted = 0;
  let errors = 0;

  const send = (dueAt: number) =>
    new Promise<void>((resolve) => {
      // A request sent early (requests due within one millisecond go out together) counts from its send. One sent
      // late counts from its due time.
      const from = Math.min(dueAt, performance.now());
      const body = nextBody(request);
      const outgoing = http.request(
        {
          agent,
          host: target.hostname,
          port: target.port,
          path: target.pathname,
          method: 'POST',
          headers: { ...request.headers, 'content-length': Buffer.byteLength(body) },
        },
        (response) => {
          response.resume();
          response.on('end', () => {
            latencies.push(performance.now() - from);
            const status = String(response.statusCode);
            if (status === '202') accepted += 1;
            else otherAnswers[status] = (otherAnswers[status] ?? 0) + 1;
            resolve();
          });
        },
      );
      outgoing.on('error', () => {
        errors += 1;
        resolve();
      });
      outgoing.end(body);
    });

  const started = performance.now();
  const inFlight: Promise<void>[] = [];
  for (let index = 0; index < total; index++) {
    const dueAt = started + index * intervalMs;
    const wait = dueAt - performance.now();
    // Timers fire no sooner than 1 ms, so requests due within a millisecond go out together.
    if (wait >= 1) await new Promise((resolve) => setTimeout(resolve, wait));
    inFlight.push(send(dueAt));
  }
  await Promise.all(inFlight);
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();

  latencies.sort((a, b) => a - b);
  // Rounded to 0.1 ms, as finely as the figures are printed.
  const at = (fraction: number) => Math.round((latencies[Math.min(latencies.length - 1, Math.ceil(fraction * latencies.length) - 1)] ?? NaN) * 10) / 10;
  return { accepted, otherAnswers, errors, seconds, p50: at(0.5), p99: at(0.99) };
}

async function runLoad(request: LoadRequest): Promise<LoadResult> {
  if (request.overallRate !== undefined) return runPaced({ ...request, overallRate: request.overallRate });
  const result = await autocannon({
    url: request.url,
    method: 'POST',
    connections,
    duration: request.durationSeconds,
    headers: request.headers,
    requests: [{ setupRequest: (req) => ({ ...req, body: nextBody(request) }) }],
  });
  const otherAnswers: Record<string, number> = {};
  for (const [status, stats] of Object.entries(result.statusCodeStats ?? {})) {
    if (status !== '202') otherAnswers[status] = Number((stats as { count: number }).count);
  }
  return {
    accepted: Number((result.statusCodeStats?.['202'] as { count: number } | undefined)?.count ?? 0),
    otherAnswers,
    errors: result.errors + result.timeouts,
    seconds: result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
  };
}

if (process.env.INGEST_BENCH_ROLE === 'load') {
  process.on('message', (request: LoadRequest) => {
    runLoad(request).then(
      (result) => process.send?.(result),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  });
} else {
  await main();
}

// ---------------------------------------------------------------------------------------------------------------
// The server process: the targets, taking turns.

/** Body templates: one listing.updated envelope per real listing, a price drop, the timestamp left open. */
function bodyParts(): [string, string][] {
  const { listings } = JSON.parse(readFileSync(listingsUrl, 'utf8')) as { listings: Record<string, unknown>[] };
  const marker = '"@@timestamp@@"';
  return listings.map((listing, index) => {
    const oldPrice = String(listing.listPrice);
    const newPrice = (Number(oldPrice) * 0.97).toFixed(2);
    const body = JSON.stringify({
      data: { ...listing, listPrice: newPrice, lastStatus: 'Pc', timestamps: { listingUpdated: '@@timestamp@@' } },
      previous: { listPrice: oldPrice, lastStatus: listing.lastStatus },
      favoriteIds: [1000 + index, 2000 + index],
      hook: { event, target_url: `https://hub.example${routePath}` },
    });
    const at = body.indexOf(marker);
    return [body.slice(0, at), body.slice(at + marker.length)];
  });
}

function listen(app: express.Express): Promise<{ server: Server; url: string }> {
  return new Promise((resolve, reject) => {
    const server = app.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (typeof address !== 'object' || address === null) return reject(new Error('no port'));
      resolve({ server, url: `http://127.0.0.1:${address.port}` });
    });
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** Starts Express reading the body and doing nothing else. */
async function startDoNothing(): Promise<{ url: string; stop(): Promise<void>; jobs(): Promise<number | null> }> {
  const app = express();
  app.post('/webhooks/repliers/:event', express.raw({ type: () => true, limit: '5mb' }), (_req, res) => {
    res.status(202).end();
  });
  const { server, url } = await listen(app);
  return { url, stop: () => close(server), jobs: async () => null };
}

/** Starts Express as a team would write it by hand: parse, compare the secret in constant time, add to BullMQ, 202. */
async function startHandWritten(prefix: string): Promise<{ url: string; stop(): Promise<void>; jobs(): Promise<number | null> }> {
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue('events', { connection, prefix });
  const expected = createHash('sha256').update(secret).digest();
  const app = express();
  app.post('/webhooks/repliers/:event', express.json({ limit: '5mb' }), async (req, res) => {
    const given = req.get('x-hook-secret') ?? '';
    if (!timingSafeEqual(createHash('sha256').update(given).digest(), expected)) {
      res.status(401).json({ error: 'unauthorized' });
      return;
    }
    const job = await queue.add(String(req.params.event), req.body, { removeOnComplete: { age: 86_400 } });
    res.status(202).json({ id: job.id });
  });
  const { server, url } = await listen(app);
  return {
    url,
    jobs: async () => (await queue.getJobCounts('waiting')).waiting ?? 0,
    async stop() {
      await close(server);
      await queue.obliterate({ force: true });
      await queue.close();
      connection.disconnect();
    },
  };
}

/** Starts the hub's API role and subscribes it to listing.updated through the handshake. */
async function startHubIngress(
  prefix: string,
  dir: string,
  withRequestLog = true,
): Promise<{ url: string; stop(): Promise<void>; jobs(): Promise<number | null> }> {
  const settings = loadSettings({
    PORT: '0',
    HOST: '127.0.0.1',
    REDIS_URL: redisUrl,
    QUEUE_PREFIX: prefix,
    DATABASE_URL: path.join(dir, 'hub.sqlite'),
    OUTBOX_DIR: path.join(dir, 'outbox'),
    RULES_DIR: path.join(repoRoot, 'rules'),
    LOG_LEVEL: 'silent',
  });
  const hub: RunningHub = await startHub(settings, 'api', createLogger('silent'));
  if ((await hub.store.getHookSubscription(event)) === null) {
    await hub.secrets.expect(event, 60);
    const answer = await fetch(`${hub.url}${routePath}`, { method: 'POST', headers: { 'x-hook-secret': secret } });
    if (answer.status !== 200) throw new Error(`the handshake failed with status ${answer.status}`);
  }
  if (withRequestLog) {
    return {
      url: hub.url!,
      jobs: async () => (await hub.eventsQueue.getJobCounts('waiting')).waiting ?? 0,
      async stop() {
        await hub.eventsQueue.obliterate({ force: true });
        await hub.close();
      },
    };
  }

  // The same ingress, served without the wrapper that `hub start` puts around it (request ids and one log line per
  // request), to show what that wrapper costs.
  const producer = createRedis(redisUrl, 'producer');
  const queue = createEventsQueue(producer, prefix);
  const ingress = createIngressApp({
    queue,
    redis: producer,
    store: hub.store,
    secrets: hub.secrets,
    logger: createLogger('silent'),
    secretHeader: settings.hookSecretHeader,
    secretHeaders: settings.hookSecretHeaders,
    bodyLimitBytes: settings.webhookBodyLimitBytes,
    dedupeWindowSeconds: settings.dedupeWindowSeconds,
    enqueueTimeoutMs: settings.enqueueTimeoutMs,
  });
  const server = await startIngressServer(ingress.handleRequest, 0, '127.0.0.1');
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    jobs: async () => (await queue.getJobCounts('waiting')).waiting ?? 0,
    async stop() {
      await stopIngressServer(server);
      await queue.obliterate({ force: true });
      await queue.close();
      producer.disconnect();
      await hub.close();
    },
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const value = sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
  // Rounded to 0.01, so that the mean of two values does not print as 7.8500000000000005.
  return Math.round(value * 100) / 100;
}

/** Deletes every key under `prefix` (SCAN, then DEL in batches). */
async function deleteKeys(prefix: string): Promise<number> {
  const redis = new Redis(redisUrl);
  let deleted = 0;
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) deleted += await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
  return deleted;
}

/** Starts a redis-server without persistence on a free port and resolves once it responds to PING. */
async function startPrivateRedis(): Promise<{ url: string; process: ChildProcess }> {
  const port = await new Promise<number>((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port: free } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(free));
    });
  });
  const child = spawn('redis-server', ['--port', String(port), '--save', '', '--appendonly', 'no', '--daemonize', 'no'], {
    stdio: 'ignore',
  });
  const url = `redis://127.0.0.1:${port}`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on('error', () => {});
    try {
      await client.connect();
      await client.ping();
      return { url, process: child };
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not respond: ${(error as Error).message}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    } finally {
      client.disconnect();
    }
  }
}

async function startPeer(): Promise<{ url: string; stop(): Promise<void>; jobs(): Promise<number | null>; cpuMicros(): number }> {
  const peer = await startNodeRed(routePath);
  process.stderr.write(`node-red ${peer.version} listening at ${peer.url}\n`);
  return { url: peer.url, stop: () => peer.stop(), jobs: async () => null, cpuMicros: () => peer.cpuMicros() };
}

async function main(): Promise<void> {
  const loadAtStart = os.loadavg()[0]!;
  const privateRedis = sharedRedis ? null : await startPrivateRedis();
  if (privateRedis) redisUrl = privateRedis.url;
  const prefix = `bench-ingest-${randomBytes(4).toString('hex')}`;
  const dir = await mkdtemp(path.join(os.tmpdir(), 'hub-bench-ingest-'));
  const parts = bodyParts();
  const headers = { 'content-type': 'application/json', 'x-hook-secret': secret };
  const loader = fork(thisFile, [], {
    env: { ...process.env, INGEST_BENCH_ROLE: 'load' },
    execArgv: ['--import', path.join(repoRoot, 'node_modules/tsx/dist/loader.mjs')],
    stdio: 'inherit',
  });
  let pending: { resolve: (result: LoadResult) => void; reject: (error: Error) => void } | null = null;
  loader.on('message', (result) => pending?.resolve(result as LoadResult));
  loader.on('exit', (code) => pending?.reject(new Error(`the load process exited with code ${code}`)));
  const load = (request: Omit<LoadRequest, 'headers' | 'parts'>): Promise<LoadResult> =>
    new Promise((resolve, reject) => {
      pending = { resolve, reject };
      loader.send({ ...request, headers, parts });
    });

  const targets = [
    { name: 'Express, does nothing', start: () => startDoNothing() },
    { name: 'Express + secret check + queue.add', start: () => startHandWritten(`${prefix}-hand`) },
    { name: 'hub ingress (verify, dedupe, enqueue)', start: () => startHubIngress(`${prefix}-hub`, dir) },
    { name: '  the same without the request log', start: () => startHubIngress(`${prefix}-bare`, dir, false) },
    ...(withPeer ? [{ name: peerName, start: () => startPeer() }] : []),
  ];
  const samples = new Map<string, { throughput: Phase[]; cpuMicros: number[]; redisMicros: number[]; fixed: Phase[]; accepted: number }>(
    targets.map((target) => [target.name, { throughput: [], cpuMicros: [], redisMicros: [], fixed: [], accepted: 0 }]),
  );
  const redisInfo = new Redis(redisUrl);
  /** CPU time used by the Redis server so far, in microseconds, from INFO cpu. */
  const redisCpuMicros = async (): Promise<number> => {
    const info = await redisInfo.info('cpu');
    const seconds = (field: string) => Number(new RegExp(`${field}:([\\d.]+)`).exec(info)?.[1] ?? 0);
    return (seconds('used_cpu_sys') + seconds('used_cpu_user')) * 1e6;
  };
  const jobsFound = new Map<string, number | null>();
  const problems: string[] = [];

  const measure = async (name: string, url: string, slice: number, overallRate?: number, serverCpu?: () => number): Promise<void> => {
    const redisBefore = await redisCpuMicros();
    const cpuBefore = process.cpuUsage();
    const peerCpuBefore = serverCpu?.() ?? 0;
    const result = await load({ url, durationSeconds: sliceSeconds, overallRate });
    // A target in a process of its own (the Node-RED peer) reports its own CPU time.
    const cpu = serverCpu ? { user: serverCpu() - peerCpuBefore, system: 0 } : process.cpuUsage(cpuBefore);
    const redisUsed = (await redisCpuMicros()) - redisBefore;
    if (result.errors > 0 || Object.keys(result.otherAnswers).length > 0) {
      problems.push(`${name}, slice ${slice}: ${result.errors} errors, other responses ${JSON.stringify(result.otherAnswers)}`);
    }
    const sample = samples.get(name)!;
    const phase = { perSecond: result.accepted / result.seconds, p50: result.p50, p99: result.p99 };
    sample.accepted += result.accepted;
    if (overallRate === undefined) {
      sample.throughput.push(phase);
      sample.cpuMicros.push((cpu.user + cpu.system) / Math.max(1, result.accepted));
      sample.redisMicros.push(redisUsed / Math.max(1, result.accepted));
    } else {
      sample.fixed.push(phase);
    }
  };

  const servers: { name: string; url: string; stop(): Promise<void>; jobs(): Promise<number | null>; cpuMicros?: () => number }[] = [];
  try {
    for (const target of targets) {
      const server = await target.start();
      servers.push({ name: target.name, ...server, url: `${server.url}${routePath}` });
      await load({ url: `${server.url}${routePath}`, durationSeconds: 1 }); // warm-up, so the JIT has compiled the hot path
    }
    const jobsBefore = await Promise.all(servers.map((server) => server.jobs()));

    // The targets take turns slice by slice, each slice starting with the next target, so a change in the load of
    // other programs touches every target alike.
    for (const overallRate of [undefined, fixedRate]) {
      for (let slice = 0; slice < slices; slice += 1) {
        for (let turn = 0; turn < servers.length; turn += 1) {
          const server = servers[(slice + turn) % servers.length]!;
          await measure(server.name, server.url, slice + 1, overallRate, server.cpuMicros);
        }
      }
      process.stderr.write(`${overallRate === undefined ? 'throughput' : `${fixedRate}/s`} slices done\n`);
    }

    const jobsAfter = await Promise.all(servers.map((server) => server.jobs()));
    servers.forEach((server, index) => {
      const [before, after] = [jobsBefore[index], jobsAfter[index]];
      jobsFound.set(server.name, before === null || after === null || before === undefined || after === undefined ? null : after - before);
    });
  } finally {
    for (const server of servers) await server.stop();
    loader.kill();
    redisInfo.disconnect();
    const deleted = await deleteKeys(prefix);
    await rm(dir, { recursive: true, force: true });
    process.stderr.write(`deleted ${deleted} Redis keys under ${prefix}\n`);
    privateRedis?.process.kill();
  }

  const summary = targets.map((target) => {
    const sample = samples.get(target.name)!;
    return {
      name: target.name,
      perSecond: median(sample.throughput.map((phase) => phase.perSecond)),
      p50: median(sample.throughput.map((phase) => phase.p50)),
      p99: median(sample.throughput.map((phase) => phase.p99)),
      cpuMicros: median(sample.cpuMicros),
      redisMicros: median(sample.redisMicros),
      fixedPerSecond: median(sample.fixed.map((phase) => phase.perSecond)),
      fixedP50: median(sample.fixed.map((phase) => phase.p50)),
      fixedP99: median(sample.fixed.map((phase) => phase.p99)),
      accepted: sample.accepted,
      jobsFound: jobsFound.get(target.name) ?? null,
    };
  });
  const [doNothing, handWritten, hub, bare] = summary as [(typeof summary)[0], (typeof summary)[0], (typeof summary)[0], (typeof summary)[0]];

  const bodyBytes = Math.round(parts.reduce((sum, [head, tail]) => sum + head.length + tail.length + 26, 0) / parts.length);
  const pad = (text: string | number, width: number) => String(text).padStart(width);
  console.log(
    `\nWebhook ingress: listing.updated bodies of ${bodyBytes} bytes on average (96 Ottawa listings), ${connections} connections;` +
      `\nmedians of ${slices} slices of ${sliceSeconds} s per target and phase, targets taking turns; ` +
      `${sharedRedis ? `the Redis at ${redisUrl}` : 'a private redis-server'};` +
      `\n${os.cpus().length} cores (${os.cpus()[0]?.model.trim()}), Node ${process.version}, ` +
      `1-minute load average ${loadAtStart.toFixed(1)} at start, ${os.loadavg()[0]!.toFixed(1)} at end\n`,
  );
  console.log(
    `${'target'.padEnd(40)}${pad('webhooks/s', 11)}${pad('p50 ms', 8)}${pad('p99 ms', 8)}${pad('CPU µs/req', 12)}${pad('Redis', 7)}` +
      `   at ${fixedRate}/s:${pad('p50 ms', 8)}${pad('p99 ms', 8)}`,
  );
  for (const row of summary) {
    console.log(
      `${row.name.padEnd(40)}${pad(Math.round(row.perSecond), 11)}${pad(row.p50, 8)}${pad(row.p99, 8)}${pad(Math.round(row.cpuMicros), 12)}${pad(Math.round(row.redisMicros), 7)}` +
        `   ${pad(`(${Math.round(row.fixedPerSecond)}/s)`, 9)}${pad(row.fixedP50, 8)}${pad(row.fixedP99, 8)}`,
    );
  }
  console.log('(CPU µs/req: CPU time of the server process per 202 in a throughput slice; Redis: the Redis server\'s, which');
  console.log(' counts other clients too when BENCH_REDIS=shared; the load process is not included)');

  // A ratio is taken between slices measured one after the other, which share the machine's load, then the median.
  const ratio = (of: string, to: string): number => {
    const [ofSlices, toSlices] = [samples.get(of)!.throughput, samples.get(to)!.throughput];
    return median(ofSlices.map((phase, index) => phase.perSecond / toSlices[index]!.perSecond));
  };
  console.log(`\nhub / Express doing nothing: ${ratio(hub.name, doNothing.name).toFixed(2)}× (goal 0.8× or better)`);
  console.log(`hub / Express by hand:       ${ratio(hub.name, handWritten.name).toFixed(2)}×`);
  console.log(`hub ack p99 at ${fixedRate}/s:       ${hub.fixedP99} ms (goal 20 ms or less)`);
  console.log(`(for information) the hub without the request log / Express doing nothing: ${ratio(bare.name, doNothing.name).toFixed(2)}×`);
  if (withPeer) {
    console.log(`hub / ${peerName.trim()}: ${ratio(hub.name, peerName).toFixed(2)}× (goal above 1×: the peer verifies, dedupes and enqueues nothing)`);
  }

  // autocannon stops counting at the end of a slice while up to one request per connection is still in flight, so
  // the server may enqueue up to that many more jobs than the 202 responses counted, per slice.
  const inFlightAllowance = connections * (2 * slices + 1);
  for (const row of [handWritten, hub, bare]) {
    console.log(`${row.name.trim()}: ${row.accepted} responses 202 counted, ${row.jobsFound} jobs found in Redis`);
    const surplus = (row.jobsFound ?? 0) - row.accepted;
    if (surplus < 0 || surplus > inFlightAllowance) {
      problems.push(`${row.name.trim()}: ${row.accepted} responses 202 but ${row.jobsFound} jobs in Redis`);
    }
  }
  if (problems.length > 0) {
    console.log(`\nproblems:\n${problems.join('\n')}`);
    process.exitCode = 1;
  }
}
