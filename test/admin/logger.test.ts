/** The logger's redaction: secrets, tokens and contact details never reach a line, however they are nested. */
import { describe, expect, it } from 'vitest';
import { createLogger, maskEmails } from '../../src/logger.js';

function capture(): { lines: string[]; logger: ReturnType<typeof createLogger> } {
  const lines: string[] = [];
  return { lines, logger: createLogger('trace', { write: (line: string) => void lines.push(line) }) };
}

describe('logger redaction', () => {
  const cases: [string, Record<string, unknown>, string][] = [
    ['top-level token', { token: 'tok-secret-1' }, 'tok-secret-1'],
    ['nested secret', { subscription: { secret: 'hook-secret-2' } }, 'hook-secret-2'],
    ['api key', { options: { apiKey: 'api-key-3' } }, 'api-key-3'],
    ['admin token', { settings: { adminToken: 'admin-token-4' } }, 'admin-token-4'],
    ['authorization header', { req: { headers: { authorization: 'Bearer abc-5' } } }, 'abc-5'],
    ['cookie header', { req: { headers: { cookie: 'hub_admin_session=c-6' } } }, 'c-6'],
    ['hook secret header', { headers: { 'x-hook-secret': 'hook-7' } }, 'hook-7'],
    ['client email', { client: { email: 'ada@clients.example' } }, 'ada@clients.example'],
    ['client phone', { client: { phone: '16135550200' } }, '16135550200'],
    ['nested client email', { delivery: { client: { email: 'ravi@clients.example' } } }, 'ravi@clients.example'],
    ['nested agent phone', { delivery: { agent: { phone: '16135550100' } } }, '16135550100'],
    ['payload', { payload: '{"email":"elena@clients.example"}' }, 'elena@clients.example'],
  ];

  for (const [name, fields, secret] of cases) {
    it(`hides ${name}`, () => {
      const { lines, logger } = capture();

      logger.info(fields, 'something happened');

      expect(lines).toHaveLength(1);
      expect(lines[0]).not.toContain(secret);
      expect(lines[0]).toContain('[redacted]');
    });
  }

  it('masks email addresses in errors', () => {
    const { lines, logger } = capture();
    const error = new Error('550 5.1.1 <noor@clients.example>: mailbox unavailable');

    logger.error({ err: error }, 'delivery failed');

    expect(lines[0]).not.toContain('noor@clients.example');
    const parsed = JSON.parse(lines[0]!) as { err: { message: string; stack: string } };
    expect(parsed.err.message).toBe('550 5.1.1 <[email]>: mailbox unavailable');
    expect(parsed.err.stack).toContain('<[email]>');
  });

  it('keeps ordinary fields', () => {
    const { lines, logger } = capture();

    logger.info({ eventId: 'e1', connector: 'email', status: 401 }, 'request finished');

    expect(JSON.parse(lines[0]!)).toMatchObject({ eventId: 'e1', connector: 'email', status: 401, msg: 'request finished' });
  });

  it('maskEmails leaves other text', () => {
    expect(maskEmails('client 5001 at sam@x.example, id 42')).toBe('client 5001 at [email], id 42');
  });
});
