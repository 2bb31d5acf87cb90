/** The `hub` CLI run in a child process, as a user runs it, for tests of its exit code and output. */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { repoRoot } from './test-hub.js';

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

// The loader is named by its full path because the child may run from a folder with no node_modules of its own.
const tsxLoader = pathToFileURL(path.join(repoRoot, 'node_modules/tsx/dist/loader.mjs')).href;

/** Starts `hub <args>` in `cwd` with exactly the environment `env`, for commands that run until they are stopped. */
export function startHubProcess(args: string[], env: NodeJS.ProcessEnv, cwd: string): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, ['--import', tsxLoader, path.join(repoRoot, 'src/cli/main.ts'), ...args], { cwd, env });
}

/** Runs `hub <args>` in `cwd` with exactly the environment `env`, and resolves with its exit code and output. */
export function spawnHub(args: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = startHubProcess(args, env, cwd);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
