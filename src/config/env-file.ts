/**
 * The optional `.env` file of the working folder, loaded with Node's `process.loadEnvFile`. Variables already set in
 * the environment keep their values: the file only fills in the ones that are missing.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { SettingsError } from './settings.js';

/** A loaded `.env` file. */
export interface LoadedEnvFile {
  file: string;
  /** Variables the file set: those it names that the environment did not already have. */
  names: ReadonlySet<string>;
}

/**
 * Loads `<dir>/.env` into `process.env` when the file exists, without overriding variables already set. Returns the
 * file and the variables it set, or null when there is no file. Throws SettingsError naming the file when it cannot
 * be read.
 */
export function loadEnvFile(dir: string = process.cwd()): LoadedEnvFile | null {
  const file = path.join(dir, '.env');
  if (!existsSync(file)) return null;
  const before = new Set(Object.keys(process.env));
  try {
    process.loadEnvFile(file);
  } catch (error) {
    throw new SettingsError(`cannot read ${file}: ${(error as Error).message}. Fix or remove the file; every setting can also come from the environment.`);
  }
  return { file, names: new Set(Object.keys(process.env).filter((name) => !before.has(name))) };
}
