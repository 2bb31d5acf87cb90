/**
 * The logger's redaction: secrets, tokens and contact details never reach a line, however they are nested. Also
 * how a logged error's message reads when the error has a cause.
 */
import { describe, expect, it } from 'vitest';
import { ConnectorError } from '../../connectors/connector.js';
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

describe('logged error message', () => {
  /** Logs `error` and returns the message of the serialized error. */
  function loggedMessage(error: Error): string {
    const { lines, logger } = capture();
    logger.error({ err: error }, 'delivery failed');
    return (JSON.parse(lines[0]!) as { err: { message: string } }).err.message;
  }

  it('keeps a message without a cause', () => {
    const error = new Error('Slack channel #deals was not found. Check the channel name in rule hot-leads.');

    expect(loggedMessage(error)).toBe('Slack channel #deals was not found. Check the channel name in rule hot-leads.');
  });

  it('adds the cause after a full stop', () => {
    const cause = new Error('An API error occurred: channel_not_found');
    const error = new ConnectorError(
      'slack',
      'permanent',
      'SLACK_CHANNEL_NOT_FOUND',
      'Slack channel #deals was not found. A private channel also needs the app invited to it.',
      { cause },
    );

    const message = loggedMessage(error);

    expect(message).toBe(
      'Slack channel #deals was not found. A private channel also needs the app invited to it. Cause: An API error occurred: channel_not_found',
    );
    expect(message).not.toContain('.:');
  });

  it('ends a message without punctuation first', () => {
    const error = new Error('no response within 100 ms', { cause: new Error('socket hang up') });

    expect(loggedMessage(error)).toBe('no response within 100 ms. Cause: socket hang up');
  });

  it('adds each cause of a chain', () => {
    const root = new Error('connect ECONNREFUSED 127.0.0.1:9');
    const middle = new Error('Login request failed.', { cause: root });
    const error = new Error('Salesforce is unreachable.', { cause: middle });

    expect(loggedMessage(error)).toBe('Salesforce is unreachable. Cause: Login request failed. Cause: connect ECONNREFUSED 127.0.0.1:9');
  });

  it('skips a cause the message already quotes', () => {
    const cause = new Error('Greeting never received');
    const error = new Error(`Sending failed and will be retried: ${cause.message}.`, { cause });

    expect(loggedMessage(error)).toBe('Sending failed and will be retried: Greeting never received.');
  });

  it('stops at a circular cause', () => {
    const first = new Error('first failure.');
    const second = new Error('second failure.', { cause: first });
    (first as { cause?: unknown }).cause = second;

    expect(loggedMessage(first)).toBe('first failure. Cause: second failure.');
  });

  it('masks email addresses in the cause', () => {
    const cause = new Error('550 5.1.1 <noor@clients.example>: mailbox unavailable');
    const error = new Error('The SMTP server rejected the message.', { cause });

    expect(loggedMessage(error)).toBe('The SMTP server rejected the message. Cause: 550 5.1.1 <[email]>: mailbox unavailable');
  });
});
