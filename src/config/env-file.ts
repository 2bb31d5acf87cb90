/**
 * The optional `.env` file of the working folder, loaded with Node's `process.loadEnvFile`. Variables already set in
 * the environment keep their values: the file only fills in the ones that are missing.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { SettingsError } from './settings.js';

/**
 * Loads `<dir>/.env` into `process.env` when the file exists, without overriding variables already set. Returns the
 * path loaded, or null when there is no file. Throws SettingsError naming the file when it cannot be read.
 */
export function loadEnvFile(dir: string = process.cwd()): string | null {
  const file = path.join(dir, '.env');
  if (!existsSync(file)) return null;
  try {
    process.loadEnvFile(file);
  } catch (error) {
    throw new SettingsError(`cannot read ${file}: ${(error as Error).message}. Fix or remove the file; every setting can also come from the environment.`);
  }
  return file;
}
