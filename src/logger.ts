/**
 * The hub's pino logger. Secrets and client contact details are redacted wherever they appear under the paths
 * below; payloads are logged nested under `payload`, never spread into the line. Email addresses inside error
 * messages and stacks are masked too, because services quote the rejected recipient in their replies.
 */
import { pino, type Logger } from 'pino';

export type { Logger } from 'pino';

/** Field names that hold a secret wherever they appear, at the top level or one object down. */
const secretFields = [
  'secret',
  'token',
  'password',
  'apiKey',
  'clientSecret',
  'refreshToken',
  'accessToken',
  'hookSecret',
  'adminToken',
  'authorization',
  'cookie',
];

/** Contact details of clients and agents, at the top level or up to two objects down. */
const contactFields = ['email', 'phone'];

const redactedPaths = [
  ...secretFields,
  ...secretFields.map((field) => `*.${field}`),
  'headers["x-hook-secret"]',
  'headers["x-api-key"]',
  'headers["set-cookie"]',
  'req.headers["x-hook-secret"]',
  'req.headers["x-api-key"]',
  'req.headers.authorization',
  'req.headers.cookie',
  'payload',
  'body',
  ...contactFields,
  ...contactFields.map((field) => `*.${field}`),
  ...contactFields.map((field) => `*.*.${field}`),
];

/** Something shaped like an email address; enough to keep recipients out of logged error text. */
const emailPattern = /[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+/g;

/** Replaces email addresses in free text with a fixed marker. */
export function maskEmails(text: string): string {
  return text.replace(emailPattern, '[email]');
}

function serializeError(error: unknown): unknown {
  const serialized = pino.stdSerializers.err(error as Error) as unknown as Record<string, unknown>;
  if (!serialized || typeof serialized !== 'object') return serialized;
  for (const field of ['message', 'stack', 'response']) {
    const value = serialized[field];
    if (typeof value === 'string') serialized[field] = maskEmails(value);
  }
  return serialized;
}

/** Creates the hub's logger at `level`, writing JSON lines to `destination` (standard output by default). */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'hub' },
      redact: { paths: redactedPaths, censor: '[redacted]' },
      serializers: { err: serializeError },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}
