/**
 * Node-RED as a peer for the ingress benchmark: a minimal flow (HTTP in → HTTP response 200) that does none of the
 * hub's work. Node-RED is installed into a cache folder outside the project the first time, never as a dependency.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './child-hub.js';

/** Node-RED 4.1 is the newest line whose engines field accepts Node 20. */
const nodeRedVersion = '4.1';

export interface NodeRedPeer {
  /** Base URL, such as http://127.0.0.1:41234; the flow responds to POSTs on the path given at start. */
  url: string;
  version: string;
  /** CPU time the Node-RED process has used so far, in microseconds, from /proc (Linux only). */
  cpuMicros(): number;
  stop(): Promise<void>;
}

function installFolder(): string {
  return path.join(os.tmpdir(), `hub-bench-node-red-${nodeRedVersion}`);
}

/** Installs Node-RED into a cache folder under the system temp folder unless it is already there. */
export function installNodeRed(): string {
  const folder = installFolder();
  const entry = path.join(folder, 'node_modules/node-red/red.js');
  if (existsSync(entry)) return entry;
  const result = spawnSync('npm', ['install', '--prefix', folder, '--no-audit', '--no-fund', '--omit=optional', `node-red@${nodeRedVersion}`], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  if (result.status !== 0 || !existsSync(entry)) {
    throw new Error(`installing node-red@${nodeRedVersion} into ${folder} failed (npm exit ${result.status})`);
  }
  return entry;
}

/**
 * Starts Node-RED with one flow: `POST <routePath>` → `status`, with no work beyond Node-RED's own body parsing.
 * The hub responds 202, so the benchmark requests the same of the peer.
 */
export async function startNodeRed(routePath = '/webhook', status = 202): Promise<NodeRedPeer> {
  const entry = installNodeRed();
  const userDir = await mkdtemp(path.join(os.tmpdir(), 'hub-bench-node-red-user-'));
  await mkdir(userDir, { recursive: true });
  const flow = [
    { id: 'tab1', type: 'tab', label: 'bench' },
    { id: 'in1', type: 'http in', z: 'tab1', url: routePath, method: 'post', upload: false, wires: [['out1']] },
    { id: 'out1', type: 'http response', z: 'tab1', statusCode: String(status), headers: {}, wires: [] },
  ];
  await writeFile(path.join(userDir, 'flows.json'), JSON.stringify(flow));
  await writeFile(
    path.join(userDir, 'settings.js'),
    `module.exports = { uiHost: '127.0.0.1', flowFile: 'flows.json', httpAdminRoot: false, httpStatic: false,
      logging: { console: { level: 'warn' } }, editorTheme: { tours: false }, diagnostics: { enabled: false },
      apiMaxLength: '10mb', externalModules: { autoInstall: false } };`,
  );

  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, [entry, '--userDir', userDir, '--port', String(port), '--settings', path.join(userDir, 'settings.js')], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`node-red exited with code ${child.exitCode}`);
    const up = await fetch(url + routePath, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } }).then(
      (response) => response.status === status,
      () => false,
    );
    if (up) break;
    if (Date.now() > deadline) throw new Error('node-red did not respond within 60 s; check its output above');
    await sleep(250);
  }

  const version = (JSON.parse(readFileSync(path.join(path.dirname(entry), 'package.json'), 'utf8')) as { version: string }).version;
  return {
    url,
    version,
    cpuMicros() {
      // Fields 14 and 15 of /proc/<pid>/stat are user and system time in clock ticks, 100 per second on Linux.
      const fields = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      return (Number(fields[11]) + Number(fields[12])) * 10_000;
    },
    async stop() {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
      await rm(userDir, { recursive: true, force: true });
    },
  };
}
