/**
 * Settings, read once from the environment at start, validated, then frozen. Every variable has a default that
 * works on a developer machine with Redis on 127.0.0.1:6379; `.env.example` lists them all.
 */
import path from 'node:path';

export class SettingsError extends Error {
  override readonly name = 'SettingsError';
}

export interface Settings {
  port: number;
  host: string;
  redisUrl: string;
  /** `postgres://…` for PostgreSQL, else a path to an SQLite file. */
  databaseUrl: string;
  queuePrefix: string;
  rulesDir: string;
  outboxDir: string;
  logLevel: string;

  /** Header carrying the Repliers hook secret, lower-cased. */
  hookSecretHeader: string;
  /** How long `hub webhooks expect` keeps a handshake window open, in seconds. */
  handshakeWindowSeconds: number;
  /** Largest webhook body accepted, in bytes. */
  webhookBodyLimitBytes: number;
  /** How long a repeated delivery of the same body is recognised as a duplicate, in seconds. */
  dedupeWindowSeconds: number;
  /** How long `hub start` may wait for an enqueue before responding 503, in milliseconds. */
  enqueueTimeoutMs: number;
  eventsConcurrency: number;

  repliersApiUrl: string;
  repliersApiKey: string | null;
  /** Base URL that image paths such as `oreb/IMG-1_1.jpg` are resolved against. */
  repliersImageUrl: string;
  /** Link to a listing page; `{mlsNumber}` and `{boardId}` are replaced. Empty for no link. */
  listingUrlTemplate: string;

  smtpUrl: string | null;
  mailFrom: string;

  slackToken: string | null;
  slackApiUrl: string | null;

  salesforce: {
    loginUrl: string | null;
    instanceUrl: string | null;
    clientId: string | null;
    clientSecret: string | null;
    refreshToken: string | null;
    username: string | null;
    password: string | null;
    recordType: 'task' | 'note';
    onNoMatch: 'skip' | 'create-lead';
    apiVersion: string;
  };
}

type Environment = Record<string, string | undefined>;

function text(env: Environment, name: string, fallback: string): string {
  const value = env[name]?.trim();
  return value ? value : fallback;
}

function optional(env: Environment, name: string): string | null {
  const value = env[name]?.trim();
  return value ? value : null;
}

function integer(env: Environment, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new SettingsError(`${name} must be an integer from ${min} to ${max}; got "${raw}".`);
  }
  return value;
}

function oneOf<T extends string>(env: Environment, name: string, fallback: T, allowed: readonly T[]): T {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new SettingsError(`${name} must be one of ${allowed.join(', ')}; got "${raw}".`);
  }
  return raw as T;
}

function url(env: Environment, name: string, fallback: string | null, protocols: readonly string[]): string | null {
  const raw = env[name]?.trim() || fallback;
  if (!raw) return null;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new SettingsError(`${name} must be a URL such as ${protocols[0]}//host:port; got "${mask(raw)}".`);
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new SettingsError(`${name} must use ${protocols.join(' or ')}; got "${parsed.protocol}".`);
  }
  return raw;
}

/** Hides the password of a URL, for messages and `hub config`. */
export function mask(value: string): string {
  try {
    const parsed = new URL(value);
    if (parsed.password) parsed.password = '****';
    return parsed.toString();
  } catch {
    return value;
  }
}

/** Reads the settings from `env` (the process environment by default) and freezes them. */
export function loadSettings(env: Environment = process.env): Readonly<Settings> {
  const databaseUrl = text(env, 'DATABASE_URL', path.join('data', 'hub.sqlite'));

  const settings: Settings = {
    port: integer(env, 'PORT', 8080, 0, 65535),
    host: text(env, 'HOST', '127.0.0.1'),
    redisUrl: url(env, 'REDIS_URL', 'redis://127.0.0.1:6379', ['redis:', 'rediss:'])!,
    databaseUrl,
    queuePrefix: text(env, 'QUEUE_PREFIX', 'hub'),
    rulesDir: text(env, 'RULES_DIR', 'rules'),
    outboxDir: text(env, 'OUTBOX_DIR', path.join('data', 'outbox')),
    logLevel: oneOf(env, 'LOG_LEVEL', 'info', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),

    hookSecretHeader: text(env, 'HOOK_SECRET_HEADER', 'x-hook-secret').toLowerCase(),
    handshakeWindowSeconds: integer(env, 'HANDSHAKE_WINDOW_SECONDS', 300, 10, 86_400),
    webhookBodyLimitBytes: integer(env, 'WEBHOOK_BODY_LIMIT_BYTES', 5 * 1024 * 1024, 1024, 100 * 1024 * 1024),
    dedupeWindowSeconds: integer(env, 'DEDUPE_WINDOW_SECONDS', 86_400, 60, 30 * 86_400),
    enqueueTimeoutMs: integer(env, 'ENQUEUE_TIMEOUT_MS', 3000, 100, 60_000),
    eventsConcurrency: integer(env, 'EVENTS_CONCURRENCY', 8, 1, 256),

    repliersApiUrl: url(env, 'REPLIERS_API_URL', 'https://api.repliers.io', ['https:', 'http:'])!,
    repliersApiKey: optional(env, 'REPLIERS_API_KEY'),
    repliersImageUrl: url(env, 'REPLIERS_IMAGE_URL', 'https://cdn.repliers.io', ['https:', 'http:'])!,
    listingUrlTemplate: text(env, 'LISTING_URL_TEMPLATE', ''),

    smtpUrl: url(env, 'SMTP_URL', null, ['smtp:', 'smtps:']),
    mailFrom: text(env, 'MAIL_FROM', 'Listings Hub <listings@hub.invalid>'),

    slackToken: optional(env, 'SLACK_TOKEN'),
    slackApiUrl: url(env, 'SLACK_API_URL', null, ['https:', 'http:']),

    salesforce: {
      loginUrl: url(env, 'SALESFORCE_LOGIN_URL', null, ['https:', 'http:']),
      instanceUrl: url(env, 'SALESFORCE_INSTANCE_URL', null, ['https:', 'http:']),
      clientId: optional(env, 'SALESFORCE_CLIENT_ID'),
      clientSecret: optional(env, 'SALESFORCE_CLIENT_SECRET'),
      refreshToken: optional(env, 'SALESFORCE_REFRESH_TOKEN'),
      username: optional(env, 'SALESFORCE_USERNAME'),
      password: optional(env, 'SALESFORCE_PASSWORD'),
      recordType: oneOf(env, 'SALESFORCE_RECORD_TYPE', 'task', ['task', 'note']),
      onNoMatch: oneOf(env, 'SALESFORCE_ON_NO_MATCH', 'skip', ['skip', 'create-lead']),
      apiVersion: text(env, 'SALESFORCE_API_VERSION', '61.0'),
    },
  };

  if (settings.slackApiUrl && !settings.slackApiUrl.endsWith('/')) settings.slackApiUrl += '/';
  Object.freeze(settings.salesforce);
  return Object.freeze(settings);
}
