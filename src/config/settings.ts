/**
 * Settings, read once from the environment at start, validated, then frozen. Every variable has a default that
 * works on a developer machine with Redis on 127.0.0.1:6379; `.env.example` lists them all.
 */
import { isIP } from 'node:net';
import path from 'node:path';

export class SettingsError extends Error {
  override readonly name = 'SettingsError';
}

export interface Settings {
  port: number;
  host: string;
  /**
   * Port on HOST where a worker-role process serves /metrics, /healthz and /readyz; null for none. API processes
   * serve them on PORT.
   */
  metricsPort: number | null;
  redisUrl: string;
  /**
   * `host:port` of some nodes of a Redis Cluster; empty for a single Redis at `redisUrl`. With nodes, only the user,
   * password and TLS (`rediss:`) of `redisUrl` are used.
   */
  redisClusterNodes: readonly string[];
  /** `postgres://…` for PostgreSQL, else a path to an SQLite file. */
  databaseUrl: string;
  queuePrefix: string;
  rulesDir: string;
  outboxDir: string;
  logLevel: string;
  /** Bearer token of the admin API, page and Bull Board; null turns them off. */
  adminToken: string | null;

  /** Header carrying the Repliers hook secret, lower-cased. */
  hookSecretHeader: string;
  /** Every header that may carry the hook secret, lower-cased, in the order they are read; `hookSecretHeader` first. */
  hookSecretHeaders: readonly string[];
  /** How long a hook secret replaced through `hub webhooks expect --rotate` stays valid, in seconds; 0 for no overlap. */
  hookSecretGraceSeconds: number;
  /** How long `hub webhooks expect` keeps a handshake window open, in seconds. */
  handshakeWindowSeconds: number;
  /** Largest webhook body accepted, in bytes. */
  webhookBodyLimitBytes: number;
  /** How long a repeated delivery of the same body is recognised as a duplicate, in seconds. */
  dedupeWindowSeconds: number;
  /** How long `hub start` may wait for an enqueue before responding 503, in milliseconds. */
  enqueueTimeoutMs: number;
  eventsConcurrency: number;
  /** Maximum number of completed jobs the events queue keeps in Redis (each is also removed after a day). */
  eventsKeepCompleted: number;
  /** Maximum number of failed jobs the events queue keeps in Redis (each is also removed after 7 days). */
  eventsKeepFailed: number;
  /** How long the store keeps event records and their deliveries, in days. */
  eventRetentionDays: number;
  /** JSON file listing other webhook senders (see docs/sources.md); null when there are none. */
  sourcesFile: string | null;

  repliersApiUrl: string;
  repliersApiKey: string | null;
  /** Base URL that image paths such as `oreb/IMG-1_1.jpg` are resolved against. */
  repliersImageUrl: string;
  /** Minutes between scheduled reconciles of the mirror with Repliers, run by the worker role; 0 turns them off. */
  reconcileIntervalMinutes: number;
  /** Clients whose favorites `hub sync` and the reconcile read from Repliers at the same time. */
  syncConcurrency: number;
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
    /** 'task' (default) or 'note'. */
    recordType: 'task' | 'note';
    /** What to do when no Contact or Lead matches the client: 'skip' (default) or 'create-lead'. */
    onNoMatch: 'skip' | 'create-lead';
    /** Salesforce API version, such as '61.0'. */
    apiVersion: string;
  };

  /** Per connector: jobs run at once by each worker process, and sends per minute across all processes (0: no limit). */
  deliveryLimits: Record<'email' | 'slack' | 'salesforce' | 'webhook', { concurrency: number; ratePerMinute: number }>;
  /** Pooled SMTP connections per worker process. */
  smtpMaxConnections: number;
  /** Changes to one client's favorites within this many seconds go out as one digest email; 0 turns digests off. */
  emailDigestWindowSeconds: number;
  /** Base URL under which clients reach the hub, for unsubscribe links; null turns the links off. */
  publicUrl: string | null;
  /** Key of the HMAC that signs unsubscribe links; null turns the links off. */
  unsubscribeSecret: string | null;
  /** How long a connector stays paused after an exhausted API limit or a revoked grant, in seconds. */
  connectorPauseSeconds: number;
  alerts: {
    slackChannel: string | null;
    email: string | null;
    /** At most one alert per connector and error code within this many seconds. */
    intervalSeconds: number;
    /** Failed deliveries of one connector within `failureWindowSeconds` that raise an alert; 0 turns this alert off. */
    failureThreshold: number;
    failureWindowSeconds: number;
  };
  webhook: {
    /** Where rules sending to "clients" or "agents" POST. */
    url: string | null;
    /** Named URLs that rules address as { "channel": "<name>" }. */
    targets: Readonly<Record<string, string>>;
    /** Standard Webhooks signing secret, `whsec_` then base64. */
    secret: string | null;
    /** Loopback, private or link-local addresses or CIDR ranges that targets may still resolve to. */
    allowedAddresses: readonly string[];
    timeoutMs: number;
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

/** Reads `<PREFIX>_CONCURRENCY` (1 to 256) and `<PREFIX>_RATE_LIMIT_PER_MINUTE` (0 for no limit, up to 100,000). */
function connectorLimits(env: Environment, prefix: string, concurrency: number, ratePerMinute: number) {
  return {
    concurrency: integer(env, `${prefix}_CONCURRENCY`, concurrency, 1, 256),
    ratePerMinute: integer(env, `${prefix}_RATE_LIMIT_PER_MINUTE`, ratePerMinute, 0, 100_000),
  };
}

/** Reads a comma-separated list of HTTP header names, lower-cased and without repeats. */
function headerNames(env: Environment, name: string, fallback: string): string[] {
  const names = text(env, name, fallback)
    .split(',')
    .map((part) => part.trim().toLowerCase())
    .filter((part) => part);
  for (const header of names) {
    if (!/^[a-z0-9!#$%&'*+.^_`|~-]+$/.test(header)) {
      throw new SettingsError(`${name} must list HTTP header names separated by commas, such as x-hook-secret,x-api-key; got "${header}".`);
    }
  }
  if (names.length === 0) throw new SettingsError(`${name} must name at least one header, such as x-hook-secret.`);
  return [...new Set(names)];
}

function secretText(env: Environment, name: string, minLength: number): string | null {
  const value = optional(env, name);
  if (value !== null && value.length < minLength) {
    throw new SettingsError(`${name} must be at least ${minLength} characters long; use a random value such as \`openssl rand -hex 32\`.`);
  }
  return value;
}

/** Reads a Standard Webhooks secret: `whsec_` followed by base64 of 24 to 64 random bytes. */
function webhookSecret(env: Environment, name: string): string | null {
  const value = optional(env, name);
  if (value === null) return null;
  const encoded = value.startsWith('whsec_') ? value.slice('whsec_'.length) : null;
  const length = encoded && /^[A-Za-z0-9+/]+={0,2}$/.test(encoded) ? Buffer.from(encoded, 'base64').length : 0;
  if (length < 24 || length > 64) {
    throw new SettingsError(
      `${name} must be "whsec_" followed by the base64 of 24 to 64 random bytes, such as whsec_$(openssl rand -base64 32).`,
    );
  }
  return value;
}

/** Reads `name=url` pairs separated by commas, such as `crm=https://crm.example.com/hooks,erp=https://…`. */
function webhookTargets(env: Environment, name: string): Record<string, string> {
  const raw = optional(env, name);
  const targets: Record<string, string> = {};
  if (raw === null) return targets;
  for (const entry of raw.split(',').map((part) => part.trim()).filter((part) => part)) {
    const separator = entry.indexOf('=');
    const target = separator > 0 ? entry.slice(0, separator).trim() : '';
    if (!/^[\w.-]{1,80}$/.test(target)) {
      throw new SettingsError(`${name} must list name=url pairs separated by commas, names of letters, digits, ".", "-" and "_"; got "${entry}".`);
    }
    targets[target] = url({ [name]: entry.slice(separator + 1).trim() }, name, null, ['https:', 'http:'])!;
  }
  return targets;
}

/** Reads IP addresses and CIDR ranges separated by commas, such as `127.0.0.1,10.0.0.0/8,fd00::/8`. */
function addressList(env: Environment, name: string): string[] {
  const raw = optional(env, name);
  if (raw === null) return [];
  const entries = raw.split(',').map((part) => part.trim()).filter((part) => part);
  for (const entry of entries) {
    const [address, bits, extra] = entry.split('/');
    const version = isIP(address ?? '');
    const prefixOk = bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= (version === 6 ? 128 : 32));
    if (version === 0 || !prefixOk || extra !== undefined) {
      throw new SettingsError(`${name} must list IP addresses or CIDR ranges separated by commas, such as 127.0.0.1,10.0.0.0/8; got "${entry}".`);
    }
  }
  return entries;
}

/** Reads `host:port` pairs separated by commas, such as `10.0.0.5:7000,10.0.0.6:7000`. */
function hostPorts(env: Environment, name: string): string[] {
  const raw = optional(env, name);
  if (raw === null) return [];
  const entries = raw.split(',').map((part) => part.trim()).filter((part) => part);
  for (const entry of entries) {
    const match = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(entry);
    if (!match || Number(match[2]) < 1 || Number(match[2]) > 65535) {
      throw new SettingsError(`${name} must list host:port pairs separated by commas, such as 10.0.0.5:7000,10.0.0.6:7000; got "${entry}".`);
    }
  }
  return entries;
}

/**
 * Reads QUEUE_PREFIX. On a Redis Cluster every key of a BullMQ queue must hash to one slot, so the prefix must hold a
 * hash tag, such as `{hub}`.
 */
function queuePrefix(env: Environment, cluster: boolean): string {
  const prefix = text(env, 'QUEUE_PREFIX', cluster ? '{hub}' : 'hub');
  // Redis hashes the text between the first "{" and the first "}" after it, when that text is not empty.
  const open = prefix.indexOf('{');
  const close = open === -1 ? -1 : prefix.indexOf('}', open + 1);
  if (cluster && close <= open + 1) {
    throw new SettingsError(
      `QUEUE_PREFIX must contain a Redis Cluster hash tag in braces, such as {hub}, when REDIS_CLUSTER_NODES is set, so every key of a queue lives in one slot; got "${prefix}".`,
    );
  }
  return prefix;
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
  const secretHeaders = headerNames(env, 'HOOK_SECRET_HEADER', 'x-hook-secret,x-api-key');
  const redisClusterNodes = hostPorts(env, 'REDIS_CLUSTER_NODES');

  const settings: Settings = {
    port: integer(env, 'PORT', 8080, 0, 65535),
    host: text(env, 'HOST', '127.0.0.1'),
    metricsPort: optional(env, 'METRICS_PORT') === null ? null : integer(env, 'METRICS_PORT', 0, 0, 65535),
    redisUrl: url(env, 'REDIS_URL', 'redis://127.0.0.1:6379', ['redis:', 'rediss:'])!,
    redisClusterNodes: Object.freeze(redisClusterNodes),
    databaseUrl,
    queuePrefix: queuePrefix(env, redisClusterNodes.length > 0),
    rulesDir: text(env, 'RULES_DIR', 'rules'),
    outboxDir: text(env, 'OUTBOX_DIR', path.join('data', 'outbox')),
    logLevel: oneOf(env, 'LOG_LEVEL', 'info', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
    adminToken: secretText(env, 'HUB_ADMIN_TOKEN', 24),

    hookSecretHeader: secretHeaders[0]!,
    hookSecretHeaders: Object.freeze(secretHeaders),
    hookSecretGraceSeconds: integer(env, 'HOOK_SECRET_GRACE_SECONDS', 86_400, 0, 30 * 86_400),
    handshakeWindowSeconds: integer(env, 'HANDSHAKE_WINDOW_SECONDS', 300, 10, 86_400),
    webhookBodyLimitBytes: integer(env, 'WEBHOOK_BODY_LIMIT_BYTES', 5 * 1024 * 1024, 1024, 100 * 1024 * 1024),
    dedupeWindowSeconds: integer(env, 'DEDUPE_WINDOW_SECONDS', 86_400, 60, 30 * 86_400),
    enqueueTimeoutMs: integer(env, 'ENQUEUE_TIMEOUT_MS', 3000, 100, 60_000),
    eventsConcurrency: integer(env, 'EVENTS_CONCURRENCY', 8, 1, 256),
    eventsKeepCompleted: integer(env, 'EVENTS_KEEP_COMPLETED', 10_000, 0, 1_000_000),
    eventsKeepFailed: integer(env, 'EVENTS_KEEP_FAILED', 10_000, 0, 1_000_000),
    eventRetentionDays: integer(env, 'EVENT_RETENTION_DAYS', 30, 1, 3650),
    sourcesFile: optional(env, 'SOURCES_FILE'),

    repliersApiUrl: url(env, 'REPLIERS_API_URL', 'https://api.repliers.io', ['https:', 'http:'])!,
    repliersApiKey: optional(env, 'REPLIERS_API_KEY'),
    repliersImageUrl: url(env, 'REPLIERS_IMAGE_URL', 'https://cdn.repliers.io', ['https:', 'http:'])!,
    reconcileIntervalMinutes: integer(env, 'RECONCILE_INTERVAL_MINUTES', 360, 0, 10_080),
    syncConcurrency: integer(env, 'SYNC_CONCURRENCY', 4, 1, 32),
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

    deliveryLimits: {
      email: connectorLimits(env, 'EMAIL', 20, 0),
      slack: connectorLimits(env, 'SLACK', 4, 60),
      salesforce: connectorLimits(env, 'SALESFORCE', 4, 0),
      webhook: connectorLimits(env, 'WEBHOOK', 10, 0),
    },
    smtpMaxConnections: integer(env, 'SMTP_MAX_CONNECTIONS', 5, 1, 100),
    emailDigestWindowSeconds: integer(env, 'EMAIL_DIGEST_WINDOW_SECONDS', 0, 0, 86_400),
    publicUrl: url(env, 'PUBLIC_URL', null, ['https:', 'http:']),
    unsubscribeSecret: secretText(env, 'UNSUBSCRIBE_SECRET', 16),
    connectorPauseSeconds: integer(env, 'CONNECTOR_PAUSE_SECONDS', 3600, 10, 7 * 86_400),
    alerts: {
      slackChannel: optional(env, 'ALERT_SLACK_CHANNEL'),
      email: optional(env, 'ALERT_EMAIL'),
      intervalSeconds: integer(env, 'ALERT_INTERVAL_SECONDS', 900, 0, 86_400),
      failureThreshold: integer(env, 'ALERT_FAILURE_THRESHOLD', 20, 0, 1_000_000),
      failureWindowSeconds: integer(env, 'ALERT_FAILURE_WINDOW_SECONDS', 900, 60, 86_400),
    },
    webhook: {
      url: url(env, 'WEBHOOK_URL', null, ['https:', 'http:']),
      targets: webhookTargets(env, 'WEBHOOK_TARGETS'),
      secret: webhookSecret(env, 'WEBHOOK_SECRET'),
      allowedAddresses: addressList(env, 'WEBHOOK_ALLOWED_ADDRESSES'),
      timeoutMs: integer(env, 'WEBHOOK_TIMEOUT_MS', 10_000, 100, 120_000),
    },
  };

  if (settings.slackApiUrl && !settings.slackApiUrl.endsWith('/')) settings.slackApiUrl += '/';
  Object.freeze(settings.salesforce);
  Object.freeze(settings.deliveryLimits);
  Object.freeze(settings.alerts);
  Object.freeze(settings.webhook);
  return Object.freeze(settings);
}
