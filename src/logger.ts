/**
 * The hub's pino logger. Secrets and client contact details are redacted wherever they appear under the paths
 * below; payloads are logged nested under `payload`, never spread into the line.
 */
import { pino, type Logger } from 'pino';

export type { Logger } from 'pino';

const redactedPaths = [
  'secret',
  'token',
  'password',
  'headers["x-hook-secret"]',
  'headers["x-api-key"]',
  'headers.authorization',
  'req.headers["x-hook-secret"]',
  'req.headers["x-api-key"]',
  'req.headers.authorization',
  'client.email',
  'client.phone',
  'agent.phone',
  'payload',
  '*.email',
  '*.phone',
];

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'hub' },
      redact: { paths: redactedPaths, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}
