import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The folder holding the hub's package.json, whether this file runs from src/ or from dist/src/. */
export function packageRoot(): string {
  let folder = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(folder, 'package.json'))) {
    const parent = path.dirname(folder);
    if (parent === folder) throw new Error('cannot find the hub package folder above ' + fileURLToPath(import.meta.url));
    folder = parent;
  }
  return folder;
}

/**
 * Formats a path for a message that users copy into a shell. The path is relative to the current folder when it lies
 * under it, and absolute otherwise, because a chain of `../` is hard to read.
 */
export function displayPath(target: string): string {
  const absolute = path.resolve(target);
  const relative = path.relative(process.cwd(), absolute);
  if (relative === '') return '.';

  const outside = relative === '..' || relative.startsWith(`..${path.sep}`) || path.isAbsolute(relative);
  return outside ? absolute : relative;
}
