/** The hub's log lines as the demo prints them, written by the hub's real pino logger. */
import { describe, expect, it } from 'vitest';
import { formatLogLine } from '../../src/demo/log-lines.js';
import { createLogger } from '../../src/logger.js';

function printedLines(log: (logger: ReturnType<typeof createLogger>) => void): string[] {
  const printed: string[] = [];
  log(createLogger('info', { write: (line: string) => void printed.push(formatLogLine(line)) }));
  return printed;
}

describe('formatLogLine', () => {
  it('prints the level name and the message', () => {
    expect(printedLines((logger) => logger.warn('admin surface off'))).toEqual(['warning: admin surface off']);
  });

  it('keeps the fields and the error message', () => {
    const printed = printedLines((logger) => logger.error({ connector: 'email', attempts: 3, err: new Error('connect ECONNREFUSED') }, 'delivery failed'));

    expect(printed).toEqual(['error: delivery failed (connector=email, attempts=3, err=connect ECONNREFUSED)']);
  });

  it('prints object fields as JSON', () => {
    expect(printedLines((logger) => logger.info({ counts: { sent: 2 } }, 'done'))).toEqual(['info: done (counts={"sent":2})']);
  });

  it('returns a line that is not JSON unchanged', () => {
    expect(formatLogLine('plain text\n')).toBe('plain text');
  });
});
