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

/** Returns the `cause` of `error` when it is an object with a string message, such as an Error. */
function causeOf(error: object): { message: string } | undefined {
  const cause = (error as { cause?: unknown }).cause;
  if (typeof cause !== 'object' || cause === null) return undefined;
  return typeof (cause as { message?: unknown }).message === 'string' ? (cause as { message: string }) : undefined;
}

/**
 * Joins the message of `error` with the messages of its causes, each as a sentence that starts with "Cause:". A cause
 * whose message already appears in the text is left out, because connector errors often quote the error they wrap.
 * The serialized stack still lists every cause.
 */
function messageWithCauses(error: { message: string }): string {
  let text = error.message.trim();
  const seen = new Set<object>([error]);
  for (let cause = causeOf(error); cause && !seen.has(cause); cause = causeOf(cause)) {
    seen.add(cause);
    const causeMessage = cause.message.trim();
    if (causeMessage === '' || text.includes(causeMessage)) continue;
    if (text === '') {
      text = causeMessage;
      continue;
    }
    // A message that does not end a sentence loses any trailing separator and gets a full stop.
    const sentence = /[.!?]$/.test(text) ? text : `${text.replace(/[\s:;,]+$/, '')}.`;
    text = `${sentence} Cause: ${causeMessage}`;
  }
  return text;
}

function serializeError(error: unknown): unknown {
  const serialized = pino.stdSerializers.err(error as Error) as unknown as Record<string, unknown>;
  if (!serialized || typeof serialized !== 'object') return serialized;
  // pino's err serializer (pino-std-serializers 7) joins causes with ': ', which gives '.: ' after a full stop.
  if (typeof (error as { message?: unknown }).message === 'string') {
    serialized.message = messageWithCauses(error as { message: string });
  }
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
