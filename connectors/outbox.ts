/**
 * The local outbox: where a connector without settings writes what it would have sent, one file per delivery,
 * under `<outbox dir>/<connector>/`. Files are named by the delivery key, so a repeated delivery overwrites its
 * own file instead of adding a second one.
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { displayPath } from '../src/paths.js';

/** Formats a connector's outbox folder for messages, as `displayPath` does, with a trailing separator to mark a folder. */
export function outboxFolderForDisplay(outboxDir: string, connector: string): string {
  return `${displayPath(path.join(outboxDir, connector))}${path.sep}`;
}

export async function writeOutboxFile(
  outboxDir: string,
  connector: string,
  key: string,
  extension: string,
  content: string | Buffer,
): Promise<string> {
  const folder = path.resolve(outboxDir, connector);
  await mkdir(folder, { recursive: true });

  const file = path.join(folder, `${key}.${extension}`);
  // Write then rename, so a reader never sees half a file.
  const partial = `${file}.partial`;
  await writeFile(partial, content);
  await rename(partial, file);
  return file;
}
