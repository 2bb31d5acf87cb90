import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { ConnectorError, DeliverySkipped, type Connector } from '../../connectors/connector.js';
import { escapeMrkdwn, mrkdwnLink, mrkdwnLinkUrl } from '../../connectors/slack/escape.js';
import { createSlackConnector } from '../../connectors/slack/slack-connector.js';
import { startSlackApi, type SlackStandIn } from '../stand-ins/slack-api.js';
import { describeConnectorContract } from './connector-contract.js';
import { makeDelivery, type DeliveryOverrides } from './fixtures.js';

const token = 'xoxb-test-token';

let slack: SlackStandIn;
let connector: Connector;

beforeEach(async () => {
  slack = await startSlackApi({
    token,
    channels: [
      { id: 'C0DEALS01', name: 'deals', isMember: true },
      { id: 'C0PRIVATE', name: 'leadership', isMember: false },
    ],
    users: [{ id: 'U0GRACE01', email: 'Grace.Hopper@example.com' }],
  });
  connector = createSlackConnector({ token, apiUrl: slack.url, outboxDir: os.tmpdir() });
});

afterEach(async () => {
  await connector.close();
  await slack.close();
});

function toChannel(channel: string, overrides: DeliveryOverrides = {}) {
  return makeDelivery({
    action: { connector: 'slack', template: 'price-drop', to: { channel } },
    recipient: { kind: 'channel', channel },
    ...overrides,
  });
}

function toAgent(overrides: DeliveryOverrides = {}) {
  return makeDelivery({
    action: { connector: 'slack', template: 'price-drop', to: 'agent' },
    recipient: { kind: 'agent', agentId: '5' },
    ...overrides,
  });
}

async function expectConnectorError(promise: Promise<unknown>, expected: { kind: 'temporary' | 'permanent'; code: string }) {
  const error = await promise.then(
    () => null,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ConnectorError);
  const connectorError = error as ConnectorError;
  expect(connectorError.connector).toBe('slack');
  expect(connectorError.kind).toBe(expected.kind);
  expect(connectorError.code).toBe(expected.code);
  return connectorError;
}

describe('slack connector, channel posts', () => {
  it('posts a price drop with blocks and returns channel:ts', async () => {
    const receipt = await connector.send(toChannel('#deals'));

    expect(receipt.outbox).toBe(false);
    expect(slack.state.messages).toHaveLength(1);
    const message = slack.state.messages[0]!;
    expect(receipt.id).toBe(`C0DEALS01:${message.ts}`);
    expect(message.text).toContain('Price drop: 62 Erin Crescent, Ottawa');
    expect(message.text).toContain('$699,900 → $674,900, -$25,000 (-3.6%)');

    const blocks = message.blocks as Array<Record<string, any>>;
    expect(blocks[0]!.type).toBe('section');
    expect(blocks[0]!.text.text).toContain('*Price drop:* <https://homes.example.com/listings/12/1421130|62 Erin Crescent, Ottawa>');
    expect(blocks[0]!.accessory).toEqual({
      type: 'image',
      image_url: 'https://cdn.example.com/listings/1421130/photo-1.jpg',
      alt_text: '62 Erin Crescent, Ottawa',
    });
    expect(blocks[1]!.type).toBe('context');
    expect(blocks[1]!.elements[0].text).toBe('Client: Ada Lovelace · Agent: Grace Hopper');
  });

  it('sends the token and turns off unfurling', async () => {
    await connector.send(toChannel('#deals'));

    const [call] = slack.state.callsTo('chat.postMessage');
    expect(call!.authorization).toBe(`Bearer ${token}`);
    expect(call!.args.channel).toBe('#deals');
    expect(call!.args.unfurl_links).toBe('false');
    expect(call!.args.unfurl_media).toBe('false');
  });

  it('escapes mentions and links in client names', async () => {
    const name = '<!channel> Bob & <http://evil|click>';
    await connector.send(toChannel('#deals', { client: { fname: name, lname: '<@U0ADMIN>' } }));

    const message = slack.state.messages[0]!;
    const escapedName = '&lt;!channel&gt; Bob &amp; &lt;http://evil|click&gt; &lt;@U0ADMIN&gt;';
    expect(message.text).toContain(`Client: ${escapedName}`);

    const sent = JSON.stringify({ text: message.text, blocks: message.blocks });
    expect(sent).not.toContain('<!channel>');
    expect(sent).not.toContain('<http://evil');
    expect(sent).not.toContain('<@U0ADMIN>');
    expect(sent).toContain(escapedName);
  });

  it('neutralises plain @channel, @here and @everyone', async () => {
    const delivery = toChannel('#deals', {
      action: { connector: 'slack', template: 'favorite-created', to: { channel: '#deals' } },
      eventType: 'favorite.created',
      favorite: { comments: 'Ping @here and @Channel and @everyone > now' },
      listing: { address: '12 @here Road, Ottawa' },
    });
    await connector.send(delivery);

    const section = (slack.state.messages[0]!.blocks as Array<Record<string, any>>)[0]!.text.text as string;
    expect(section).toContain('>Ping @\u200Dhere and @\u200DChannel and @\u200Deveryone &gt; now');
    expect(section).toContain('12 @\u200Dhere Road, Ottawa');
    expect(section).not.toMatch(/@(here|channel|everyone)/i);
  });

  it('keeps a name with line breaks on one line', async () => {
    await connector.send(toChannel('#deals', { client: { fname: 'Ada\n*Agent:* Mallory', lname: 'Lovelace' } }));

    const context = (slack.state.messages[0]!.blocks as Array<Record<string, any>>)[1]!.elements[0].text as string;
    expect(context).toBe('Client: Ada *Agent:* Mallory Lovelace · Agent: Grace Hopper');
  });

  it('renders favorite-created with the comment as a quote', async () => {
    const delivery = toChannel('#deals', {
      action: { connector: 'slack', template: 'favorite-created', to: { channel: '#deals' } },
      eventType: 'favorite.created',
      change: null,
    });
    await connector.send(delivery);

    const message = slack.state.messages[0]!;
    const section = (message.blocks as Array<Record<string, any>>)[0]!.text.text as string;
    expect(section).toContain('*New favorite:* <https://homes.example.com/listings/12/1421130|62 Erin Crescent, Ottawa>');
    expect(section).toContain('$674,900 · MLS 1421130');
    expect(section).toContain('>Love the backyard');
    expect(message.text.split('\n')[0]).toBe('New favorite: 62 Erin Crescent, Ottawa');
  });

  it('renders listing-sold with the status in words', async () => {
    const delivery = toChannel('#deals', {
      action: { connector: 'slack', template: 'listing-sold', to: { channel: '#deals' } },
      listing: { lastStatus: 'Sld', status: 'U', photoUrl: null },
      change: { price: null, lastStatus: { from: 'New', to: 'Sld' } },
    });
    await connector.send(delivery);

    const message = slack.state.messages[0]!;
    const section = (message.blocks as Array<Record<string, any>>)[0]!;
    expect(section.text.text).toContain('*Listing sold:*');
    expect(section.text.text).toContain('Last list price: $674,900');
    expect(section.text.text).not.toContain('Sold price');
    expect(section.accessory).toBeUndefined();
  });

  it('shows the favorite count when the alert has no single client', async () => {
    await connector.send(toChannel('#deals', { client: null, favoriteCount: 3 }));

    const context = (slack.state.messages[0]!.blocks as Array<Record<string, any>>)[1]!.elements[0].text;
    expect(context).toBe('Favorited by 3 clients · Agent: Grace Hopper');
  });

  it('rejects an unknown template as permanent', async () => {
    const delivery = toChannel('#deals', { action: { connector: 'slack', template: 'open-house', to: { channel: '#deals' } } });

    const error = await expectConnectorError(connector.send(delivery), { kind: 'permanent', code: 'SLACK_UNKNOWN_TEMPLATE' });
    expect(error.message).toContain('favorite-created, price-drop, listing-sold');
    expect(slack.state.calls).toHaveLength(0);
  });
});

describe('slack connector, direct messages', () => {
  it('finds the agent by email and posts in the DM', async () => {
    const receipt = await connector.send(toAgent());

    expect(slack.state.calls.map((call) => call.method)).toEqual(['users.lookupByEmail', 'conversations.open', 'chat.postMessage']);
    expect(slack.state.callsTo('users.lookupByEmail')[0]!.args.email).toBe('grace.hopper@example.com');
    expect(slack.state.callsTo('conversations.open')[0]!.args.users).toBe('U0GRACE01');

    const dmChannel = slack.state.directMessages.get('U0GRACE01');
    expect(slack.state.callsTo('chat.postMessage')[0]!.args.channel).toBe(dmChannel);
    expect(receipt.id).toBe(`${dmChannel}:${slack.state.messages[0]!.ts}`);
  });

  it('skips a client recipient without calling Slack', async () => {
    const delivery = makeDelivery({ action: { connector: 'slack', template: 'price-drop', to: 'client' } });

    await expect(connector.send(delivery)).rejects.toBeInstanceOf(DeliverySkipped);
    expect(() => connector.preview(delivery)).toThrow(DeliverySkipped);
    expect(slack.state.calls).toHaveLength(0);
  });

  it('fails permanently when the agent has no email', async () => {
    const error = await expectConnectorError(connector.send(toAgent({ agent: { email: null } })), {
      kind: 'permanent',
      code: 'SLACK_AGENT_EMAIL_MISSING',
    });
    expect(error.message).toContain("Add the agent's email in Repliers");
    expect(slack.state.calls).toHaveLength(0);
  });
});

describe('slack connector, errors', () => {
  it('turns a 429 into a temporary error with Retry-After', async () => {
    slack.state.failNext(1, { kind: 'rate-limit', retryAfterSeconds: 30 });

    const error = await expectConnectorError(connector.send(toChannel('#deals')), { kind: 'temporary', code: 'SLACK_RATE_LIMITED' });
    expect(error.retryAfterMs).toBe(30_000);
    // The SDK must not retry or wait by itself: exactly one call reached Slack.
    expect(slack.state.calls).toHaveLength(1);
  });

  it('turns a rate-limited lookup into the same temporary error', async () => {
    slack.state.failNext(1, { kind: 'rate-limit', retryAfterSeconds: 5 }, 'users.lookupByEmail');

    const error = await expectConnectorError(connector.send(toAgent()), { kind: 'temporary', code: 'SLACK_RATE_LIMITED' });
    expect(error.retryAfterMs).toBe(5_000);
    expect(error.message).toContain('users.lookupByEmail');
  });

  const permanentCases = [
    {
      name: 'not_in_channel',
      code: 'SLACK_NOT_IN_CHANNEL',
      fix: 'Invite the app to the channel',
      send: (slackConnector: Connector) => slackConnector.send(toChannel('#leadership')),
    },
    {
      name: 'channel_not_found',
      code: 'SLACK_CHANNEL_NOT_FOUND',
      fix: 'Check the channel name in rule price-drop',
      send: (slackConnector: Connector) => slackConnector.send(toChannel('#no-such-channel')),
    },
    {
      name: 'users_not_found',
      code: 'SLACK_USERS_NOT_FOUND',
      fix: "The agent's email in Repliers must be the one on their Slack account",
      send: (slackConnector: Connector) => slackConnector.send(toAgent({ agent: { email: 'grace@personal.example.org' } })),
    },
  ];

  for (const testCase of permanentCases) {
    it(`reports ${testCase.name} as permanent with the fix`, async () => {
      const error = await expectConnectorError(testCase.send(connector), { kind: 'permanent', code: testCase.code });
      expect(error.message).toContain(testCase.fix);
    });
  }

  it('pauses on a wrong token', async () => {
    const wrongToken = createSlackConnector({ token: 'xoxb-wrong', apiUrl: slack.url, outboxDir: os.tmpdir() });

    const error = await expectConnectorError(wrongToken.send(toChannel('#deals')), { kind: 'temporary', code: 'SLACK_INVALID_AUTH' });
    expect(error.pausesConnector).toBe(true);
    expect(error.message).toContain('Check SLACK_TOKEN');
  });

  const tokenErrors = [
    { error: 'not_authed', code: 'SLACK_NOT_AUTHED', fix: 'Set SLACK_TOKEN to the bot token' },
    { error: 'account_inactive', code: 'SLACK_ACCOUNT_INACTIVE', fix: 'set SLACK_TOKEN to its new bot token' },
    { error: 'token_revoked', code: 'SLACK_TOKEN_REVOKED', fix: 'set SLACK_TOKEN to its new bot token' },
    { error: 'token_expired', code: 'SLACK_TOKEN_EXPIRED', fix: 'set SLACK_TOKEN to a new bot token' },
  ];

  for (const testCase of tokenErrors) {
    it(`pauses on ${testCase.error}`, async () => {
      slack.state.failNext(1, { kind: 'error', error: testCase.error });

      const error = await expectConnectorError(connector.send(toChannel('#deals')), { kind: 'temporary', code: testCase.code });
      expect(error.pausesConnector).toBe(true);
      expect(error.message).toContain(testCase.fix);
    });
  }

  it('names the missing scope', async () => {
    slack.state.failNext(1, { kind: 'error', error: 'missing_scope', extra: { needed: 'users:read.email', provided: 'chat:write' } });

    const error = await expectConnectorError(connector.send(toAgent()), { kind: 'permanent', code: 'SLACK_MISSING_SCOPE' });
    expect(error.message).toContain('users:read.email');
  });

  it('treats HTTP 503 as temporary', async () => {
    slack.state.failNext(1, { kind: 'http', status: 503 });

    await expectConnectorError(connector.send(toChannel('#deals')), { kind: 'temporary', code: 'SLACK_UNAVAILABLE' });
    expect(slack.state.calls).toHaveLength(1);
  });

  it("treats Slack's internal_error as temporary", async () => {
    slack.state.failNext(1, { kind: 'error', error: 'internal_error' });

    await expectConnectorError(connector.send(toChannel('#deals')), { kind: 'temporary', code: 'SLACK_INTERNAL_ERROR' });
  });

  it('treats a refused connection as temporary', async () => {
    const stopped = await startSlackApi({ token });
    await stopped.close();
    const unreachable = createSlackConnector({ token, apiUrl: stopped.url, outboxDir: os.tmpdir() });

    await expectConnectorError(unreachable.send(toChannel('#deals')), { kind: 'temporary', code: 'SLACK_UNREACHABLE' });
  });
});

describe('slack connector, preview and outbox', () => {
  it('previews without calling Slack', () => {
    const preview = connector.preview(toChannel('#deals'));

    expect(preview.connector).toBe('slack');
    expect(preview.target).toBe('#deals');
    expect(preview.text).toBe(
      'Price drop: 62 Erin Crescent, Ottawa\n$699,900 → $674,900, -$25,000 (-3.6%)\nClient: Ada Lovelace · Agent: Grace Hopper',
    );
    expect(slack.state.calls).toHaveLength(0);
  });

  it('describes live mode and lists its templates', () => {
    expect(connector.mode).toBe('live');
    expect(connector.templates).toEqual(['favorite-created', 'price-drop', 'listing-sold']);
    expect(connector.describe()).toContain(slack.url);
  });

  it('writes the request to the outbox without a token', async () => {
    const outboxDir = await mkdtemp(path.join(os.tmpdir(), 'slack-outbox-'));
    try {
      const outbox = createSlackConnector({ token: null, apiUrl: null, outboxDir });
      expect(outbox.mode).toBe('outbox');
      expect(outbox.describe()).toContain('SLACK_TOKEN');
      expect(outbox.describe()).toContain(path.join(outboxDir, 'slack'));

      const delivery = toChannel('#deals', { client: { fname: '<!here>' } });
      const receipt = await outbox.send(delivery);

      expect(receipt.outbox).toBe(true);
      expect(receipt.id).toBe(path.join(outboxDir, 'slack', `${delivery.key}.json`));
      const written = JSON.parse(await readFile(receipt.id, 'utf8'));
      expect(written.target).toBe('#deals');
      expect(written.requests).toHaveLength(1);
      expect(written.requests[0].method).toBe('chat.postMessage');
      expect(written.requests[0].arguments.channel).toBe('#deals');
      expect(written.requests[0].arguments.text).toContain('Client: &lt;!here&gt; Lovelace');
    } finally {
      await rm(outboxDir, { recursive: true, force: true });
    }
  });

  it('writes the DM lookup steps to the outbox', async () => {
    const outboxDir = await mkdtemp(path.join(os.tmpdir(), 'slack-outbox-'));
    try {
      const outbox = createSlackConnector({ token: null, apiUrl: null, outboxDir });
      const receipt = await outbox.send(toAgent());

      const written = JSON.parse(await readFile(receipt.id, 'utf8'));
      expect(written.requests.map((request: { method: string }) => request.method)).toEqual([
        'users.lookupByEmail',
        'conversations.open',
        'chat.postMessage',
      ]);
      expect(written.requests[0].arguments.email).toBe('grace.hopper@example.com');
    } finally {
      await rm(outboxDir, { recursive: true, force: true });
    }
  });
});

describe('slack escaping', () => {
  it('escapes control characters as entities', () => {
    expect(escapeMrkdwn('a & b < c > d')).toBe('a &amp; b &lt; c &gt; d');
  });

  it('encodes a pipe so a URL cannot relabel its link', () => {
    expect(mrkdwnLinkUrl('https://example.com/a|b?x=1&y=<2>')).toBe('https://example.com/a%7Cb?x=1&amp;y=%3C2%3E');
    expect(mrkdwnLink('https://example.com/a|Fake label', 'Real & true')).toBe('<https://example.com/a%7CFake%20label|Real &amp; true>');
  });

  it('drops links that are not http(s)', () => {
    expect(mrkdwnLinkUrl('javascript:alert(1)')).toBeNull();
    expect(mrkdwnLink('not a url', '62 Erin Crescent')).toBe('62 Erin Crescent');
  });
});

describe('slack connector, finding an earlier message', () => {
  it('finds a channel message by its delivery key', async () => {
    const delivery = toChannel('#deals');
    const since = new Date();
    const sent = await connector.send(delivery);

    const found = await connector.findSent!(delivery, since);

    expect(found).toEqual(sent);
    const [post] = slack.state.callsTo('chat.postMessage');
    expect(post!.args.metadata).toEqual({ event_type: 'hub_delivery', event_payload: { delivery_key: delivery.key } });
    expect(slack.state.callsTo('conversations.history')[0]!.args.channel).toBe('C0DEALS01');
  });

  it('finds a direct message by its delivery key', async () => {
    const delivery = toAgent();
    const since = new Date();
    const sent = await connector.send(delivery);

    expect(await connector.findSent!(delivery, since)).toEqual(sent);
  });

  it('returns null when no message carries the key', async () => {
    const since = new Date();
    await connector.send(toChannel('#deals', { key: 'another-delivery' }));

    expect(await connector.findSent!(toChannel('#deals'), since)).toBeNull();
  });

  it('returns null when the history cannot be read', async () => {
    slack.state.failNext(1, { kind: 'error', error: 'missing_scope', extra: { needed: 'channels:history' } }, 'conversations.history');

    expect(await connector.findSent!(toChannel('#deals'), new Date())).toBeNull();
  });

  it('passes a rate limit on as temporary', async () => {
    slack.state.failNext(1, { kind: 'rate-limit', retryAfterSeconds: 3 }, 'conversations.history');

    await expectConnectorError(connector.findSent!(toChannel('#deals'), new Date()), { kind: 'temporary', code: 'SLACK_RATE_LIMITED' });
  });
});

let contractSlack: SlackStandIn | null = null;

describeConnectorContract({
  name: 'slack',
  outboxExtension: 'json',
  delivery: (suffix = '') => toChannel('#deals', { key: `slack-contract-${suffix}` }),
  async startLive() {
    contractSlack = await startSlackApi({ token, channels: [{ id: 'C0DEALS01', name: 'deals', isMember: true }, { id: 'C0PRIVATE', name: 'leadership', isMember: false }] });
    return createSlackConnector({ token, apiUrl: contractSlack.url, outboxDir: os.tmpdir() });
  },
  async stopLive() {
    await contractSlack?.close();
    contractSlack = null;
  },
  acceptedCount: () => contractSlack?.state.messages.length ?? 0,
  outbox: (outboxDir) => createSlackConnector({ token: null, apiUrl: null, outboxDir }),
  failures: [
    {
      name: 'a 429 with Retry-After',
      arrange: (delivery) => {
        contractSlack!.state.failNext(1, { kind: 'rate-limit', retryAfterSeconds: 7 });
        return delivery;
      },
      kind: 'temporary',
      code: 'SLACK_RATE_LIMITED',
    },
    {
      name: 'not_in_channel',
      arrange: (delivery) => toChannel('#leadership', { key: delivery.key }),
      kind: 'permanent',
      code: 'SLACK_NOT_IN_CHANNEL',
    },
    {
      name: 'channel_not_found',
      arrange: (delivery) => toChannel('#nowhere', { key: delivery.key }),
      kind: 'permanent',
      code: 'SLACK_CHANNEL_NOT_FOUND',
    },
    {
      name: 'invalid_auth',
      arrange: (delivery) => {
        contractSlack!.state.token = 'xoxb-rotated';
        return delivery;
      },
      kind: 'temporary',
      code: 'SLACK_INVALID_AUTH',
    },
  ],
});
