/**
 * `hub start --role …` in a child process, as an operator runs it, with its log in a file so a drill's output stays
 * readable. Unlike bench/support/child-hub.ts, a process can be started again on the same port and a worker-role
 * process counts as ready once its workers are connected to Redis.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { freePort, repoRoot } from '../../bench/support/child-hub.js';

const tsxLoader = pathToFileURL(path.join(repoRoot, 'node_modules/tsx/dist/loader.mjs')).href;

export type HubRole = 'all' | 'api' | 'worker';

export interface HubProcess {
  role: HubRole;
  /** Base URL of the API, such as http://127.0.0.1:41234; also set for the worker role, which does not listen. */
  url: string;
  port: number;
  pid: number | undefined;
  process: ChildProcess;
  /** Resolves with the exit code, or the signal name when the process was killed. */
  exited: Promise<number | string>;
  /** Sends `signal` (SIGTERM by default) and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<number | string>;
  /** CPU time the process has used so far, in seconds, from /proc (Linux only). */
  cpuSeconds(): number | null;
}

export interface HubProcessOptions {
  env: Record<string, string>;
  role: HubRole;
  /** Log file; the child's stdout and stderr are appended to it. */
  logFile: string;
  /** Port of the API; a free one when absent. Reuse one to restart an API where its senders expect it. */
  port?: number;
  /** Resolves once the process is ready to work; the API role is also checked on /healthz. */
  ready?: () => Promise<boolean>;
  /** How long to wait for readiness, in ms. Default 60,000, because a tsx start on a busy 2-core machine is slow. */
  readyTimeoutMs?: number;
}

/** Starts `hub start --role <role>` and waits until /healthz responds (API) and `ready` resolves true. */
export async function startHubProcess(options: HubProcessOptions): Promise<HubProcess> {
  const port = options.port ?? (await freePort());
  const log = createWriteStream(options.logFile, { flags: 'a' });
  const child = spawn(process.execPath, ['--import', tsxLoader, path.join(repoRoot, 'src/cli/main.ts'), 'start', '--role', options.role], {
    cwd: repoRoot,
    env: { ...process.env, LOG_LEVEL: 'warn', ...options.env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.pipe(log, { end: false });
  child.stderr?.pipe(log, { end: false });
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => {
      log.end();
      resolve(code ?? signal ?? 'unknown');
    }),
  );
  const url = `http://127.0.0.1:${port}`;

  const deadline = Date.now() + (options.readyTimeoutMs ?? 60_000);
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`hub --role ${options.role} exited (${child.exitCode ?? child.signalCode}) before it was ready; see ${options.logFile}`);
    }
    const healthy = options.role === 'worker' || (await fetch(`${url}/healthz`).then((response) => response.ok, () => false));
    if (healthy && (!options.ready || (await options.ready()))) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`hub --role ${options.role} was not ready within ${options.readyTimeoutMs ?? 60_000} ms; see ${options.logFile}`);
    }
    await sleep(200);
  }

  return {
    role: options.role,
    url,
    port,
    pid: child.pid,
    process: child,
    exited,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
    cpuSeconds() {
      try {
        // Fields 14 and 15 of /proc/<pid>/stat are user and system time in clock ticks (100 per second on Linux).
        const fields = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
        return (Number(fields[11]) + Number(fields[12])) / 100;
      } catch {
        return null;
      }
    },
  };
}
