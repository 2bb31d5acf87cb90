import type { ParsedMail } from 'mailparser';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { ConnectorError, DeliverySkipped, type Connector, type Delivery } from '../../connectors/connector.js';
import { createEmailConnector, type EmailSettings } from '../../connectors/email/email-connector.js';
import { headerSafe } from '../../connectors/email/email-templates.js';
import { verifyUnsubscribeToken } from '../../src/unsubscribe/unsubscribe-token.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';
import { startSmtpStandIn, type SmtpStandIn } from '../stand-ins/smtp-server.js';
import { describeConnectorContract } from './connector-contract.js';
import { makeDelivery, type DeliveryOverrides } from './fixtures.js';

const unsubscribe = { publicUrl: 'https://hub.example.com', secret: 'unsubscribe-secret-for-tests' };

function forEmail(overrides: DeliveryOverrides = {}): Delivery {
  return makeDelivery({ action: { connector: 'email', template: 'price-drop', to: 'clients' }, ...overrides });
}

/** Returns a header line as received (unfolded), or null; mailparser folds List-* headers into one `list` object. */
function headerLine(mail: ParsedMail, key: string): string | null {
  const line = mail.headerLines.find((candidate) => candidate.key === key)?.line;
  return line ? line.replace(/\r?\n[ \t]+/g, ' ') : null;
}

async function caught(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => null,
    (error: unknown) => error,
  );
}

let sink: SmtpSink;
let standIn: SmtpStandIn;
const open: Connector[] = [];

function connect(overrides: Partial<EmailSettings> = {}, url = sink.url): Connector {
  const connector = createEmailConnector({ smtpUrl: url, from: 'Listings <listings@hub.example.com>', outboxDir: '/nonexistent', unsubscribe, ...overrides });
  open.push(connector);
  return connector;
}

beforeAll(async () => {
  sink = await startSmtpSink();
  standIn = await startSmtpStandIn();
});

afterEach(async () => {
  await Promise.all(open.splice(0).map((connector) => connector.close()));
});

afterAll(async () => {
  await sink.close();
  await standIn.close();
});

describe('email connector, message', () => {
  it('shows prices, status, link, photo and signature', async () => {
    const before = sink.messages.length;
    await connect().send(forEmail());

    const mail = sink.messages[before]!;
    expect(mail.subject).toBe('Price change: 62 Erin Crescent, Ottawa now $674,900');
    expect(sink.envelopes[before]).toEqual(['ada.lovelace@example.com']);
    expect(mail.text).toContain('Old price: $699,900');
    expect(mail.text).toContain('New price: $674,900');
    expect(mail.text).toContain('Change: -$25,000 (-3.6%)');
    expect(mail.text).toContain('Status: price changed');
    expect(mail.text).toContain('See the listing: https://homes.example.com/listings/12/1421130');
    expect(mail.text).toContain('Grace Hopper\nRideau Realty');
    expect(mail.html).toContain('<img src="https://cdn.example.com/listings/1421130/photo-1.jpg"');
    expect(mail.html).toContain('<a href="https://homes.example.com/listings/12/1421130">');
  });

  it('escapes listing and client data in HTML', async () => {
    const before = sink.messages.length;
    const delivery = forEmail({
      listing: { address: '<img src=x onerror=alert(1)> & Co', url: 'javascript:alert(1)' },
      client: { fname: '<script>alert(1)</script>' },
    });

    await connect().send(delivery);

    const html = String(sink.messages[before]!.html);
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt; &amp; Co');
    expect(html).toContain('Hello &lt;script&gt;alert(1)&lt;/script&gt;,');
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('<img src=x');
    expect(html).not.toContain('javascript:');
  });

  it('keeps listing data from adding headers', async () => {
    const before = sink.messages.length;
    const delivery = forEmail({
      listing: { address: '62 Erin Crescent\r\nBcc: victim@example.org\r\nX-Injected: 1' },
      client: { fname: 'Ada\r\nX-Name-Injected: 1', lname: 'Lovelace\nCc: other@example.org' },
    });

    await connect().send(delivery);

    const mail = sink.messages[before]!;
    for (const header of ['bcc', 'cc', 'x-injected', 'x-name-injected']) expect(mail.headers.has(header)).toBe(false);
    expect(mail.subject).toBe('Price change: 62 Erin Crescent Bcc: victim@example.org X-Injected: 1 now $674,900');
    expect(sink.envelopes[before]).toEqual(['ada.lovelace@example.com']);
  });

  it('encodes a non-ASCII subject', async () => {
    const before = standIn.messages.length;
    const address = "12 rue de l'Église, Montréal — 東京";

    await connect({}, standIn.url).send(forEmail({ listing: { address } }));

    expect(standIn.messages[before]!.subject).toBe(`Price change: ${address} now $674,900`);
    const rawSubject = /^Subject: (.*(?:\r?\n[ \t].*)*)/m.exec(standIn.raw[before]!)![1]!;
    expect(rawSubject).toMatch(/=\?UTF-8\?[BQ]\?/i);
    expect(/^[\x20-\x7e\r\n\t]*$/.test(rawSubject)).toBe(true);
  });

  it('strips line and paragraph separators from header values', () => {
    expect(headerSafe('a\u2028b\u0085c\r\nd')).toBe('a b c d');
  });

  it('keeps one Message-ID across retries', async () => {
    const before = sink.messages.length;
    const connector = connect();

    const first = await connector.send(forEmail());
    const second = await connector.send(forEmail());

    expect(first.id).toBe(second.id);
    expect(sink.messages[before]!.messageId).toBe(sink.messages[before + 1]!.messageId);
    expect(sink.messages[before]!.messageId).toBe('<evt-1f0c-price-drop-0-client-77@hub.example.com>');
  });

  it('renders listing-sold in words', () => {
    const preview = connect().preview(forEmail({ action: { connector: 'email', template: 'listing-sold', to: 'clients' }, listing: { lastStatus: 'Sld' } }));

    expect(preview.subject).toBe('Update: 62 Erin Crescent, Ottawa is sold');
    expect(preview.text).toContain('Last list price: $674,900');
    expect(preview.text).not.toContain('Sold price');
  });

  it('shows the sold price when published', () => {
    const listing = { lastStatus: 'Sld', soldPrice: 690000, soldDate: '2024-05-03' };
    const preview = connect().preview(forEmail({ action: { connector: 'email', template: 'listing-sold', to: 'clients' }, listing }));

    expect(preview.text).toContain('Sold price: $690,000 on 2024-05-03');
    expect(preview.text).toContain('Last list price: $674,900');
    expect(preview.html).toContain('Sold price: $690,000 on 2024-05-03');
  });
});

describe('email connector, unsubscribe', () => {
  it('adds List-Unsubscribe with one-click POST', async () => {
    const before = sink.messages.length;
    await connect().send(forEmail());

    const mail = sink.messages[before]!;
    expect(headerLine(mail, 'list-unsubscribe-post')).toBe('List-Unsubscribe-Post: List-Unsubscribe=One-Click');
    const link = /<(https:\/\/hub\.example\.com\/unsubscribe\?token=[^>]+)>/.exec(headerLine(mail, 'list-unsubscribe')!)![1]!;
    expect(verifyUnsubscribeToken(unsubscribe.secret, new URL(link).searchParams.get('token')!)).toBe('77');
    expect(mail.text).toContain(`Unsubscribe: ${link}`);
  });

  it('leaves agents and unconfigured hubs without it', async () => {
    const before = sink.messages.length;
    const toAgent = forEmail({ recipient: { kind: 'agent', agentId: '5' }, action: { connector: 'email', template: 'price-drop', to: 'agents' } });

    await connect().send(toAgent);
    await connect({ unsubscribe: null }).send(forEmail());

    for (const mail of sink.messages.slice(before)) {
      expect(headerLine(mail, 'list-unsubscribe')).toBeNull();
      expect(mail.text).not.toContain('Unsubscribe');
    }
    expect(sink.envelopes[before]).toEqual(['grace.hopper@example.com']);
  });
});

describe('email connector, skips and errors', () => {
  const skips: Array<[string, DeliveryOverrides]> = [
    ['disabled client', { client: { status: false } }],
    ['opted-out client', { client: { optedOutAt: '2024-05-01T10:00:00.000Z' } }],
    ['deleted client', { client: { deletedAt: '2024-05-01T10:00:00.000Z' } }],
    ['client without email', { client: { email: null } }],
    ['listing not for public display', { listing: { displayPublic: false } }],
  ];

  for (const [name, overrides] of skips) {
    it(`skips a ${name}`, async () => {
      const before = sink.messages.length;

      await expect(connect().send(forEmail(overrides))).rejects.toBeInstanceOf(DeliverySkipped);
      expect(() => connect().preview(forEmail(overrides))).toThrow(DeliverySkipped);
      expect(sink.messages.length).toBe(before);
    });
  }

  it('rejects an address that would add recipients', async () => {
    for (const email of ['ada@example.com\r\nBcc: x@example.org', 'ada@example.com, eve@example.org', 'Ada <ada@example.com>']) {
      const error = await caught(connect().send(forEmail({ client: { email } })));

      expect(error).toBeInstanceOf(ConnectorError);
      expect((error as ConnectorError).code).toBe('EMAIL_ADDRESS_INVALID');
      expect((error as ConnectorError).message).toContain('Correct it in Repliers');
    }
  });
});

describe('email connector, digest', () => {
  it('sends several changes as one email', async () => {
    const before = sink.messages.length;
    const connector = connect();
    const first = forEmail({ key: 'k-1', receivedAt: '2024-05-01T14:00:00.000Z' });
    const second = forEmail({
      key: 'k-2',
      receivedAt: '2024-05-01T14:05:00.000Z',
      listing: { mlsNumber: '1421131', address: '7 Rideau Street, Ottawa', listPrice: 450000 },
      change: { price: { from: 480000, to: 450000, amount: -30000, percent: -6.25 } },
    });

    const receipt = await connector.sendDigest!([first, second], 'digest-1');

    expect(sink.messages.length).toBe(before + 1);
    const mail = sink.messages[before]!;
    expect(receipt.id).toBe('<digest-1@hub.example.com>');
    expect(mail.subject).toBe('2 updates on listings you saved: 62 Erin Crescent, Ottawa, 7 Rideau Street, Ottawa');
    expect(mail.text).toContain('2 listings you saved have changed.');
    expect(mail.text).toContain('Change: -$25,000 (-3.6%)');
    expect(mail.text).toContain('Change: -$30,000 (-6.3%)');
    expect(headerLine(mail, 'list-unsubscribe')).toMatch(/^List-Unsubscribe: <https:/);
    expect(connector.digestKey!(first)).toBe('client:77');
  });
});

describeConnectorContract({
  name: 'email',
  outboxExtension: 'eml',
  delivery: (suffix = '') => forEmail({ key: `email-contract-${suffix}` }),
  async startLive() {
    return createEmailConnector({ smtpUrl: standIn.url, from: 'Listings <listings@hub.example.com>', outboxDir: '/nonexistent', unsubscribe });
  },
  async stopLive() {},
  acceptedCount: () => standIn.messages.length,
  outbox: (outboxDir) => createEmailConnector({ smtpUrl: null, from: 'Listings <listings@hub.example.com>', outboxDir, unsubscribe }),
  failures: [
    {
      name: 'a 550 reply',
      arrange: (delivery) => ({ ...delivery, client: { ...delivery.client!, email: 'reject.me@example.com' } }),
      kind: 'permanent',
      code: 'EMAIL_REJECTED',
    },
    {
      name: 'a 451 reply',
      arrange: (delivery) => ({ ...delivery, client: { ...delivery.client!, email: 'defer.me@example.com' } }),
      kind: 'temporary',
      code: 'EMAIL_UNAVAILABLE',
    },
    {
      name: 'an invalid address',
      arrange: (delivery) => ({ ...delivery, client: { ...delivery.client!, email: 'not an address' } }),
      kind: 'permanent',
      code: 'EMAIL_ADDRESS_INVALID',
    },
  ],
});
