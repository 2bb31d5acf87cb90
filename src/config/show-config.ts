/**
 * `hub config`: the effective settings after the environment, the `.env` file and the defaults, one per line, with
 * secrets masked. A setting equal to its default is marked, so the settings someone changed are easy to spot.
 */
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

/** Renders one value with secrets masked: secret settings as `****`, passwords inside URLs as `****`. */
export function displayValue(name: string, value: unknown): string {
  if (value === null || value === undefined) return '(not set)';
  const leaf = name.split('.').pop() ?? name;
  if (secretName.test(leaf)) return '****';
  if (typeof value === 'string') return /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? mask(value) : value;
  if (isPlainObject(value)) {
    return JSON.stringify(Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, typeof inner === 'string' ? mask(inner) : inner])));
  }
  return JSON.stringify(value);
}

/** Returns the lines `hub config` prints for `settings`; defaults come from an empty environment. */
export function describeSettings(settings: Readonly<Settings>, envFile: string | null): string[] {
  const defaults = flatten(loadSettings({}) as unknown as Record<string, unknown>);
  const source = envFile ? `the environment, then ${envFile}, then the defaults` : 'the environment, then the defaults (no .env file here)';
  const lines = [`# Effective settings from ${source}. Secrets are masked; see .env.example for each variable.`];
  for (const [name, value] of flatten(settings as unknown as Record<string, unknown>)) {
    const isDefault = JSON.stringify(defaults.get(name)) === JSON.stringify(value);
    lines.push(`${name} = ${displayValue(name, value)}${isDefault ? '  (default)' : ''}`);
  }
  return lines;
}
