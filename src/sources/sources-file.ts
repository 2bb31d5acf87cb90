/**
 * The sources file (SOURCES_FILE): other systems that send webhooks to the hub, each on
 * `POST /webhooks/sources/<id>` and signed the Standard Webhooks way. docs/sources.md describes the format.
 * The file is read once at start; a change takes effect at the next start.
 */
import { readFile } from 'node:fs/promises';
import { decodeSecret } from './standard-webhooks.js';
import { noun } from '../plural.js';

/** Default tolerance between a delivery's `webhook-timestamp` and the hub's clock, in seconds. */
export const defaultToleranceSeconds = 300;
const maxToleranceSeconds = 86_400;

/** Event names are what rules and records see: letters, digits, '.', '_' and '-', 1 to 128 characters. */
export const eventNamePattern = /^[A-Za-z0-9_.-]{1,128}$/;
const sourceIdPattern = /^[a-z0-9][a-z0-9_-]{0,62}$/;

export class SourcesFileError extends Error {
  override readonly name = 'SourcesFileError';
}

/** One configured source, validated, with its secrets decoded into HMAC keys. */
export interface Source {
  id: string;
  /** HMAC keys of every valid secret; several while the sender rotates its secret. */
  keys: readonly Buffer[];
  /** A fixed event name for every delivery, or null to read it from the body at `eventField`. */
  event: string | null;
  /** Dot-separated path of the event name in the JSON body, such as `type` or `meta.event`. */
  eventField: readonly string[];
  toleranceSeconds: number;
}

export type SourceRegistry = ReadonlyMap<string, Source>;

type Environment = Record<string, string | undefined>;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function readSecrets(entry: Record<string, unknown>, where: string, env: Environment): Buffer[] {
  const fromFile = entry.secrets;
  const fromEnv = entry.secretEnv;
  if ((fromFile === undefined) === (fromEnv === undefined)) {
    throw new SourcesFileError(`${where}: give exactly one of "secrets" (a list of whsec_ secrets) or "secretEnv" (the name of an environment variable).`);
  }

  let secrets: unknown[];
  if (fromEnv !== undefined) {
    if (typeof fromEnv !== 'string' || !/^[A-Z_][A-Z0-9_]*$/.test(fromEnv)) {
      throw new SourcesFileError(`${where}: "secretEnv" must be an environment variable name such as CRM_WEBHOOK_SECRET.`);
    }
    const value = env[fromEnv]?.trim();
    if (!value) throw new SourcesFileError(`${where}: the environment variable ${fromEnv} named by "secretEnv" is not set.`);
    secrets = value.split(/\s+/);
  } else {
    if (!Array.isArray(fromFile) || fromFile.length === 0) {
      throw new SourcesFileError(`${where}: "secrets" must be a non-empty list of whsec_ secrets.`);
    }
    secrets = fromFile;
  }

  return secrets.map((secret, index) => {
    if (typeof secret !== 'string') throw new SourcesFileError(`${where}: secret ${index + 1} must be a string.`);
    try {
      return decodeSecret(secret);
    } catch (error) {
      throw new SourcesFileError(`${where}: secret ${index + 1} is invalid: ${(error as Error).message}.`);
    }
  });
}

function readSource(entry: unknown, index: number, env: Environment): Source {
  const at = `sources[${index}]`;
  if (!isObject(entry)) throw new SourcesFileError(`${at} must be an object with "id" and "secrets".`);
  const where = typeof entry.id === 'string' ? `source "${entry.id}"` : at;

  const known = new Set(['id', 'secrets', 'secretEnv', 'event', 'eventField', 'toleranceSeconds', 'description']);
  const unknown = Object.keys(entry).filter((key) => !known.has(key));
  if (unknown.length > 0) {
    throw new SourcesFileError(`${where}: unknown ${noun(unknown.length, 'field')} ${unknown.map((key) => `"${key}"`).join(', ')}; allowed are ${[...known].join(', ')}.`);
  }

  if (typeof entry.id !== 'string' || !sourceIdPattern.test(entry.id)) {
    throw new SourcesFileError(`${at}: "id" must be 1 to 63 lower-case letters, digits, "-" or "_", starting with a letter or digit.`);
  }
  if (entry.id === 'repliers') {
    throw new SourcesFileError(`${where}: the id "repliers" is taken by the Repliers webhooks; choose another.`);
  }

  if (entry.event !== undefined && (typeof entry.event !== 'string' || !eventNamePattern.test(entry.event))) {
    throw new SourcesFileError(`${where}: "event" must be 1 to 128 letters, digits, ".", "_" or "-".`);
  }
  const eventField = entry.eventField ?? 'type';
  if (typeof eventField !== 'string' || !/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/.test(eventField)) {
    throw new SourcesFileError(`${where}: "eventField" must be a dot-separated path such as "type" or "meta.event".`);
  }
  const tolerance = entry.toleranceSeconds ?? defaultToleranceSeconds;
  if (typeof tolerance !== 'number' || !Number.isInteger(tolerance) || tolerance < 1 || tolerance > maxToleranceSeconds) {
    throw new SourcesFileError(`${where}: "toleranceSeconds" must be an integer from 1 to ${maxToleranceSeconds}.`);
  }

  return {
    id: entry.id,
    keys: readSecrets(entry, where, env),
    event: typeof entry.event === 'string' ? entry.event : null,
    eventField: eventField.split('.'),
    toleranceSeconds: tolerance,
  };
}

/**
 * Validates the parsed content of a sources file. `env` supplies the variables named by `secretEnv`. Throws
 * SourcesFileError naming the source and field at fault.
 */
export function readSources(content: unknown, env: Environment = process.env): SourceRegistry {
  if (!isObject(content) || !Array.isArray(content.sources)) {
    throw new SourcesFileError('the sources file must be a JSON object with a "sources" list.');
  }
  const sources = new Map<string, Source>();
  content.sources.forEach((entry, index) => {
    const source = readSource(entry, index, env);
    if (sources.has(source.id)) throw new SourcesFileError(`source "${source.id}" is listed twice.`);
    sources.set(source.id, source);
  });
  return sources;
}

/** Reads and validates the sources file at `file`; returns no sources when `file` is null. */
export async function loadSources(file: string | null, env: Environment = process.env): Promise<SourceRegistry> {
  if (file === null) return new Map();
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new SourcesFileError(`cannot read SOURCES_FILE ${file}: ${(error as Error).message}. Fix the path or unset SOURCES_FILE.`);
  }
  let content: unknown;
  try {
    content = JSON.parse(text);
  } catch (error) {
    throw new SourcesFileError(`SOURCES_FILE ${file} is not valid JSON: ${(error as Error).message}.`);
  }
  try {
    return readSources(content, env);
  } catch (error) {
    if (!(error instanceof SourcesFileError)) throw error;
    throw new SourcesFileError(`SOURCES_FILE ${file}: ${error.message}`);
  }
}
