/**
 * `hub config`: the effective settings after the environment, the `.env` file and the defaults, one per line under the
 * name of the environment variable that sets it, with secrets masked. A setting equal to its default is marked, so the
 * settings someone changed are easy to spot.
 */
import type { LoadedEnvFile } from './env-file.js';
import { loadSettings, mask, type Settings } from './settings.js';

/** Setting names whose values are secrets (adminToken, clientSecret, …); only whether they are set is shown. */
const secretName = /(token|secret|password|apikey)$/i;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Flattens nested settings into dotted names, such as `alerts.intervalSeconds`. */
function flatten(value: Record<string, unknown>, prefix = ''): Map<string, unknown> {
  const entries = new Map<string, unknown>();
  for (const [key, inner] of Object.entries(value)) {
    const name = `${prefix}${key}`;
    if (isPlainObject(inner) && Object.keys(inner).length > 0 && !name.endsWith('targets')) {
      for (const [innerName, innerValue] of flatten(inner, `${name}.`)) entries.set(innerName, innerValue);
    } else {
      entries.set(name, inner);
    }
  }
  return entries;
}

/**
 * Returns the environment variable that sets the setting at the dotted `name`, or null for a setting derived from
 * another one. Most names are the setting's path in capitals with underscores, and the exceptions are listed here. A
 * test keeps the result equal to the variables of `.env.example`.
 */
export function variableOf(name: string): string | null {
  if (name === 'hookSecretHeader') return null;
  if (name === 'hookSecretHeaders') return 'HOOK_SECRET_HEADER';
  if (name === 'adminToken') return 'HUB_ADMIN_TOKEN';

  const limit = /^deliveryLimits\.(\w+)\.(concurrency|ratePerMinute)$/.exec(name);
  if (limit) return `${limit[1]!.toUpperCase()}_${limit[2] === 'concurrency' ? 'CONCURRENCY' : 'RATE_LIMIT_PER_MINUTE'}`;

  const path = name.replace(/^alerts\./, 'alert.');
  return path.replace(/\./g, '_').replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
}

/**
 * Renders one value as it would be written in the environment, with secrets masked: secret settings as `****`,
 * passwords inside URLs as `****`. Lists are comma-separated and `name=url` pairs are written as such.
 */
export function displayValue(name: string, value: unknown): string {
  if (value === null || value === undefined || value === '') return '(not set)';
  const leaf = name.split('.').pop() ?? name;
  if (secretName.test(leaf)) return '****';
  if (typeof value === 'string') return /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? mask(value) : value;
  if (Array.isArray(value)) return value.length === 0 ? '(not set)' : value.join(',');
  if (isPlainObject(value)) {
    const pairs = Object.entries(value).map(([key, inner]) => `${key}=${typeof inner === 'string' ? mask(inner) : JSON.stringify(inner)}`);
    return pairs.length === 0 ? '(not set)' : pairs.join(',');
  }
  return JSON.stringify(value);
}

/**
 * Returns the lines `hub config` prints for `settings`, each marked with where its value came from: the `.env` file,
 * the environment, or the defaults, which come from an empty environment.
 */
export function describeSettings(
  settings: Readonly<Settings>,
  envFile: LoadedEnvFile | null,
  environment: NodeJS.ProcessEnv = process.env,
): string[] {
  const defaults = flatten(loadSettings({}) as unknown as Record<string, unknown>);
  const source = envFile ? `the environment, then ${envFile.file}, then the defaults` : 'the environment, then the defaults (no .env file here)';
  const lines = [`# Effective settings from ${source}. Secrets are masked; see .env.example for each variable.`];
  for (const [name, value] of flatten(settings as unknown as Record<string, unknown>)) {
    const variable = variableOf(name);
    if (variable === null) continue;
    lines.push(`${variable} = ${displayValue(name, value)}${originMark(variable, envFile, environment, JSON.stringify(defaults.get(name)) === JSON.stringify(value))}`);
  }
  return lines;
}

function originMark(variable: string, envFile: LoadedEnvFile | null, environment: NodeJS.ProcessEnv, isDefault: boolean): string {
  if (envFile?.names.has(variable)) return '  (.env)';
  if (environment[variable] !== undefined) return '  (environment)';
  return isDefault ? '  (default)' : '';
}
