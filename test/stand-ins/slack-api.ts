/**
 * A local stand-in for the part of the Slack Web API the Slack connector uses: chat.postMessage,
 * users.lookupByEmail, conversations.open, conversations.list, conversations.history and auth.test. It listens on 127.0.0.1, accepts form or JSON bodies as
 * @slack/web-api sends them, returns errors in Slack's shapes (HTTP 200 with `{ ok: false, error }`, HTTP 429 with
 * Retry-After) and records every call so tests can check what arrived.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parse as parseQueryString } from 'node:querystring';

export interface SlackChannel {
  id: string;
  name: string;
  /** False makes chat.postMessage fail with not_in_channel. */
  isMember: boolean;
}

export interface SlackUser {
  id: string;
  email: string;
}

export interface SlackCall {
  method: string;
  /** Arguments as the SDK sent them, with JSON-encoded values such as `blocks` decoded. */
  args: Record<string, unknown>;
  authorization: string | null;
}

export interface PostedMessage {
  channel: string;
  ts: string;
  text: string;
  blocks: unknown;
  /** Message metadata as sent, which conversations.history returns only with include_all_metadata. */
  metadata: unknown;
}

/** A failure returned instead of the normal response: a rate limit, a Slack error name, or a bare HTTP status. */
export type SlackFailure =
  | { kind: 'rate-limit'; retryAfterSeconds: number }
  | { kind: 'error'; error: string; extra?: Record<string, unknown> }
  | { kind: 'http'; status: number };

export interface SlackStandInState {
  token: string;
  channels: SlackChannel[];
  users: SlackUser[];
  calls: SlackCall[];
  messages: PostedMessage[];
  /** Direct message channels opened so far, by user id. */
  directMessages: Map<string, string>;
  /** Makes the next `count` calls (of `method` only, when given) fail as described. */
  failNext(count: number, failure: SlackFailure, method?: string): void;
  callsTo(method: string): SlackCall[];
}

export interface SlackStandIn {
  /** Web API base URL, ending in `/api/`. */
  url: string;
  state: SlackStandInState;
  close(): Promise<void>;
}

export interface SlackStandInOptions {
  token?: string;
  channels?: SlackChannel[];
  users?: SlackUser[];
}

interface PendingFailure {
  remaining: number;
  failure: SlackFailure;
  method: string | undefined;
}

export async function startSlackApi(options: SlackStandInOptions = {}): Promise<SlackStandIn> {
  const pending: PendingFailure[] = [];
  let messageCount = 0;

  const state: SlackStandInState = {
    token: options.token ?? 'xoxb-test-token',
    channels: options.channels ?? [{ id: 'C0DEALS01', name: 'deals', isMember: true }],
    users: options.users ?? [],
    calls: [],
    messages: [],
    directMessages: new Map(),
    failNext(count, failure, method) {
      pending.push({ remaining: count, failure, method });
    },
    callsTo(method) {
      return state.calls.filter((call) => call.method === method);
    },
  };

  const methods: Record<string, (args: Record<string, unknown>) => Record<string, unknown>> = {
    'auth.test': () => ({ ok: true, url: 'https://hub-test.slack.com/', team: 'Hub Test', user: 'hub', team_id: 'T0TEST', user_id: 'U0BOT', bot_id: 'B0BOT' }),

    'users.lookupByEmail': (args) => {
      const email = String(args.email ?? '').toLowerCase();
      const user = state.users.find((candidate) => candidate.email.toLowerCase() === email);
      if (!user) return { ok: false, error: 'users_not_found' };
      return { ok: true, user: { id: user.id, profile: { email: user.email } } };
    },

    'conversations.open': (args) => {
      const userId = String(args.users ?? '');
      if (!state.users.some((user) => user.id === userId)) return { ok: false, error: 'user_not_found' };
      let channelId = state.directMessages.get(userId);
      if (!channelId) {
        channelId = `D0${userId.slice(1).padEnd(8, '0')}`;
        state.directMessages.set(userId, channelId);
      }
      return { ok: true, channel: { id: channelId } };
    },

    'chat.postMessage': (args) => {
      const requested = String(args.channel ?? '');
      const channelId = resolveChannel(state, requested);
      if (!channelId) return { ok: false, error: 'channel_not_found' };
      const channel = state.channels.find((candidate) => candidate.id === channelId);
      if (channel && !channel.isMember) return { ok: false, error: 'not_in_channel' };
      if (typeof args.text !== 'string' && args.blocks === undefined) return { ok: false, error: 'no_text' };

      messageCount += 1;
      // Timestamps follow the clock, as Slack's do, so that history searches by time find the message.
      const ts = `${Math.floor(Date.now() / 1000)}.${String(messageCount).padStart(6, '0')}`;
      state.messages.push({ channel: channelId, ts, text: String(args.text ?? ''), blocks: args.blocks, metadata: args.metadata });
      return { ok: true, channel: channelId, ts, message: { text: args.text, ts } };
    },

    'conversations.list': (args) => {
      const limit = Number(args.limit ?? 100);
      const start = Number(args.cursor ?? 0);
      const page = state.channels.slice(start, start + limit);
      const next = start + limit < state.channels.length ? String(start + limit) : '';
      return {
        ok: true,
        channels: page.map((channel) => ({ id: channel.id, name: channel.name, is_member: channel.isMember })),
        response_metadata: { next_cursor: next },
      };
    },

    'conversations.history': (args) => {
      const channelId = String(args.channel ?? '');
      const known = state.channels.some((channel) => channel.id === channelId) || [...state.directMessages.values()].includes(channelId);
      if (!known) return { ok: false, error: 'channel_not_found' };
      const oldest = Number(args.oldest ?? 0);
      const withMetadata = args.include_all_metadata === true || args.include_all_metadata === 'true';
      const messages = state.messages
        .filter((message) => message.channel === channelId && Number(message.ts) >= oldest)
        .reverse()
        .map((message) => ({ type: 'message', ts: message.ts, text: message.text, ...(withMetadata && message.metadata ? { metadata: message.metadata } : {}) }));
      return { ok: true, messages, has_more: false, response_metadata: { next_cursor: '' } };
    },
  };

  const server = createServer((request, response) => {
    void handle(request, response).catch((error: unknown) => {
      send(response, 500, { ok: false, error: 'internal_error', detail: String(error) });
    });
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const method = url.pathname.replace(/^\/api\//, '');
    const args = parseArguments(request.headers['content-type'], await readBody(request));
    const authorization = request.headers.authorization ?? null;
    state.calls.push({ method, args, authorization });

    if (request.method !== 'POST' || !url.pathname.startsWith('/api/')) {
      send(response, 404, { ok: false, error: 'unknown_method' });
      return;
    }

    const failure = takeFailure(pending, method);
    if (failure?.kind === 'rate-limit') {
      send(response, 429, { ok: false, error: 'ratelimited' }, { 'retry-after': String(failure.retryAfterSeconds) });
      return;
    }
    if (failure?.kind === 'http') {
      response.writeHead(failure.status, { 'content-type': 'text/html' });
      response.end('<html><body>Slack is having trouble</body></html>');
      return;
    }
    if (failure?.kind === 'error') {
      send(response, 200, { ok: false, error: failure.error, ...failure.extra });
      return;
    }

    const token = authorization?.replace(/^Bearer /, '') ?? (typeof args.token === 'string' ? args.token : null);
    if (!token) {
      send(response, 200, { ok: false, error: 'not_authed' });
      return;
    }
    if (token !== state.token) {
      send(response, 200, { ok: false, error: 'invalid_auth' });
      return;
    }

    const run = methods[method];
    send(response, 200, run ? run(args) : { ok: false, error: 'unknown_method' });
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/api/`,
    state,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

/** Finds a channel by id, by name, or by name with a leading `#`. Direct message channels opened earlier count too. */
function resolveChannel(state: SlackStandInState, requested: string): string | null {
  const name = requested.replace(/^#/, '');
  const channel = state.channels.find((candidate) => candidate.id === requested || candidate.name === name);
  if (channel) return channel.id;
  return [...state.directMessages.values()].includes(requested) ? requested : null;
}

function takeFailure(pending: PendingFailure[], method: string): SlackFailure | null {
  const entry = pending.find((candidate) => candidate.remaining > 0 && (!candidate.method || candidate.method === method));
  if (!entry) return null;
  entry.remaining -= 1;
  if (entry.remaining === 0) pending.splice(pending.indexOf(entry), 1);
  return entry.failure;
}

function parseArguments(contentType: string | undefined, body: string): Record<string, unknown> {
  if (!body) return {};
  if (contentType?.startsWith('application/json')) return JSON.parse(body) as Record<string, unknown>;

  const args: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(parseQueryString(body))) {
    const text = Array.isArray(value) ? value.join(',') : (value ?? '');
    args[key] = decodeJsonValue(text);
  }
  return args;
}

/** Decodes a form value that holds JSON, as the SDK sends objects and arrays such as `blocks`. */
function decodeJsonValue(text: string): unknown {
  if (!text.startsWith('[') && !text.startsWith('{')) return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function send(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  response.end(JSON.stringify(body));
}
