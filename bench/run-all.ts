/**
 * `npm run bench`: runs every benchmark script one after the other, each in its own process so one cannot warm or
 * slow the next, and prints their figures with a summary of wall time. Each script prints its own baselines,
 * measured in the same run, and its peak memory.
 */
import { spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { repoRoot } from './support/child-hub.js';

const tsxLoader = pathToFileURL(path.join(repoRoot, 'node_modules/tsx/dist/loader.mjs')).href;

/** Benchmarks in the order they run, with the environment each gets. */
const benchmarks: { name: string; script: string; env?: Record<string, string> }[] = [
  { name: 'ingest', script: 'bench/ingest.ts' },
  { name: 'end-to-end latency', script: 'bench/latency.ts', env: { RATE: '200', DURATION_SECONDS: '20' } },
  { name: 'fan-out', script: 'bench/fanout.ts' },
  { name: 'rules', script: 'bench/rules.ts' },
  { name: 'mirror', script: 'bench/mirror.ts' },
];

function run(script: string, env: Record<string, string>): Promise<number | null> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', tsxLoader, path.join(repoRoot, script)], {
      cwd: repoRoot,
      env: { ...process.env, ...env },
      stdio: 'inherit',
    });
    child.on('exit', (code) => resolve(code));
  });
}

const only = process.argv.slice(2);
const selected = only.length > 0 ? benchmarks.filter((benchmark) => only.includes(benchmark.name.split(' ')[0]!)) : benchmarks;
console.log(`benchmarks on ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`);

const results: { name: string; seconds: number; code: number | null }[] = [];
for (const benchmark of selected) {
  console.log(`\n=== ${benchmark.name} (${benchmark.script})`);
  const started = performance.now();
  const code = await run(benchmark.script, benchmark.env ?? {});
  results.push({ name: benchmark.name, seconds: (performance.now() - started) / 1000, code });
}

console.log('\n=== summary');
for (const result of results) {
  console.log(`  ${result.name.padEnd(20)} ${result.code === 0 ? 'done' : `failed (exit ${result.code})`} in ${result.seconds.toFixed(0)} s`);
}
process.exitCode = results.every((result) => result.code === 0) ? 0 : 1;
