/**
 * `npm run drills`: runs every fault drill against the real hub, one after the other, each in its own process, and
 * prints a summary of events sent, accepted, lost and duplicated per drill. Exits 1 when any drill lost or doubled a
 * delivery or could not finish.
 *
 * Run: npm run drills                     every drill (about 10 minutes on 2 cores)
 *      npm run drills -- burst smtp-down  only the drills named
 * Each drill's sizes are set by its own environment variables (see the top of each file in drills/), and
 * DRILL_DEADLINE_SECONDS (150) bounds how long a drill waits for its deliveries after its last fault.
 * Needs redis-server on the PATH, Redis on REDIS_URL (127.0.0.1:6379 by default) and, for scale-out, PostgreSQL on
 * DRILL_POSTGRES_URL (postgres://postgres@127.0.0.1:5432/test by default).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { repoRoot } from '../bench/support/child-hub.js';
import type { DrillResult } from './support/drill-harness.js';

const tsxLoader = pathToFileURL(path.join(repoRoot, 'node_modules/tsx/dist/loader.mjs')).href;

/** Drills in the order they run: the quick ones first, the minute-long SMTP outage last but one. */
const drills: { name: string; script: string }[] = [
  { name: 'duplicates-and-order', script: 'drills/duplicates-and-order.ts' },
  { name: 'broken-rules', script: 'drills/broken-rules.ts' },
  { name: 'burst', script: 'drills/burst.ts' },
  { name: 'slow-smtp', script: 'drills/slow-smtp.ts' },
  { name: 'slack-rate-limit', script: 'drills/slack-rate-limit.ts' },
  { name: 'salesforce-session', script: 'drills/salesforce-session.ts' },
  { name: 'redis-restart', script: 'drills/redis-restart.ts' },
  { name: 'graceful-stop', script: 'drills/graceful-stop.ts' },
  { name: 'worker-kill', script: 'drills/worker-kill.ts' },
  { name: 'smtp-down', script: 'drills/smtp-down.ts' },
  { name: 'scale-out', script: 'drills/scale-out.ts' },
];

function run(script: string, resultFile: string): Promise<number | null> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', tsxLoader, path.join(repoRoot, script)], {
      cwd: repoRoot,
      env: { ...process.env, DRILL_RESULT_FILE: resultFile },
      stdio: 'inherit',
    });
    child.on('exit', (code) => resolve(code));
  });
}

const only = process.argv.slice(2);
const unknown = only.filter((name) => !drills.some((drill) => drill.name === name));
if (unknown.length > 0) {
  console.error(`unknown drill(s): ${unknown.join(', ')}; choose from ${drills.map((drill) => drill.name).join(', ')}`);
  process.exit(2);
}
const selected = only.length > 0 ? drills.filter((drill) => only.includes(drill.name)) : drills;
console.log(`drills on ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`);

const resultsDir = await mkdtemp(path.join(os.tmpdir(), 'hub-drill-results-'));
const rows: { name: string; code: number | null; seconds: number; result: DrillResult | null }[] = [];
const started = performance.now();
for (const drill of selected) {
  const resultFile = path.join(resultsDir, `${drill.name}.json`);
  const drillStarted = performance.now();
  const code = await run(drill.script, resultFile);
  const result = await readFile(resultFile, 'utf8').then((text) => JSON.parse(text) as DrillResult, () => null);
  rows.push({ name: drill.name, code, seconds: (performance.now() - drillStarted) / 1000, result });
}
await rm(resultsDir, { recursive: true, force: true });

console.log('\n=== summary');
console.log(`  ${'drill'.padEnd(22)} ${'sent'.padStart(6)} ${'accepted'.padStart(9)} ${'503s'.padStart(6)} ${'expected'.padStart(9)} ${'lost'.padStart(5)} ${'dup'.padStart(4)} ${'unexp'.padStart(6)}  result`);
for (const row of rows) {
  const result = row.result;
  if (!result) {
    console.log(`  ${row.name.padEnd(22)} did not finish (exit ${row.code}) after ${row.seconds.toFixed(0)} s`);
    continue;
  }
  const { webhooks, deliveries } = result;
  console.log(
    `  ${row.name.padEnd(22)} ${String(webhooks.sent).padStart(6)} ${String(webhooks.accepted).padStart(9)} ${String(webhooks.answered503).padStart(6)}` +
      ` ${String(deliveries.expected).padStart(9)} ${String(deliveries.missing).padStart(5)} ${String(deliveries.duplicated).padStart(4)}` +
      ` ${String(deliveries.unexpected).padStart(6)}  ${result.passed ? 'PASS' : 'FAIL'} in ${row.seconds.toFixed(0)} s`,
  );
}
console.log(`  all drills took ${((performance.now() - started) / 1000).toFixed(0)} s`);
process.exitCode = rows.every((row) => row.result?.passed === true) ? 0 : 1;
