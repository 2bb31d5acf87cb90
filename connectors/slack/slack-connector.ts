/**
 * The Slack connector: posts Block Kit messages with chat.postMessage, to a channel named in the rule or as a direct
 * message to an agent. Without SLACK_TOKEN it writes each would-be request to the outbox instead.
 */
import { LogLevel, WebClient } from '@slack/web-api';

import { ConnectorError, DeliverySkipped, type Connector, type Delivery, type Preview, type SendReceipt } from '../connector.js';
import { personName } from '../format.js';
import { outboxFolderForDisplay, writeOutboxFile } from '../outbox.js';
import { toSlackConnectorError, type SlackCallContext } from './slack-errors.js';
import { renderSlackMessage, slackTemplates, type SlackMessage } from './slack-templates.js';

export interface SlackSettings {
  token: string | null;
  /** Web API base URL ending in `/`, or null for Slack's own, https://slack.com/api/. */
  apiUrl: string | null;
  outboxDir: string;
}

export interface ConnectorLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

const connectorName = 'slack';

/** Maximum time in ms for one Web API call. The WebClient default is no limit. */
const requestTimeoutMs = 30_000;

const silentLogger: ConnectorLogger = { info() {}, warn() {} };

type SlackTarget =
  | { kind: 'channel'; channel: string }
  | { kind: 'agent'; agentId: string; email: string | null; label: string };

/** Event type of the message metadata that carries the delivery key, so a message can be found after a crash. */
export const deliveryMetadataType = 'hub_delivery';

/** How far before the unfinished attempt's start the history search reaches, in seconds, for clock differences. */
const historyMarginSeconds = 120;

/** Pages of conversations.list and conversations.history read at most while looking for an earlier message. */
const maxPages = 10;

export function createSlackConnector(settings: SlackSettings, logger: ConnectorLogger = silentLogger): Connector {
  return settings.token ? createLiveConnector(settings.token, settings, logger) : createOutboxConnector(settings, logger);
}

function createLiveConnector(token: string, settings: SlackSettings, logger: ConnectorLogger): Connector {
  const client = new WebClient(token, {
    slackApiUrl: settings.apiUrl ?? undefined,
    // The hub's queue schedules retries, so the SDK must fail at once instead of sleeping inside a send.
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    timeout: requestTimeoutMs,
    logLevel: LogLevel.ERROR,
  });

  async function call<T>(context: SlackCallContext, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      throw toSlackConnectorError(error, context);
    }
  }

  /** Finds the agent's Slack user by email and returns the id of the direct message channel with them. */
  async function openDirectMessage(target: Extract<SlackTarget, { kind: 'agent' }>, delivery: Delivery): Promise<string> {
    if (!target.email) throw missingAgentEmail(target, delivery);
    const email = target.email;

    const context = { ruleId: delivery.ruleId, agentLabel: target.label };
    const lookup = await call({ ...context, method: 'users.lookupByEmail' }, () => client.users.lookupByEmail({ email }));
    const userId = lookup.user?.id;
    if (!userId) {
      throw new ConnectorError(connectorName, 'temporary', 'SLACK_UNEXPECTED_RESPONSE', 'Slack users.lookupByEmail returned no user id.');
    }

    const opened = await call({ ...context, method: 'conversations.open' }, () => client.conversations.open({ users: userId }));
    const channelId = opened.channel?.id;
    if (!channelId) {
      throw new ConnectorError(connectorName, 'temporary', 'SLACK_UNEXPECTED_RESPONSE', 'Slack conversations.open returned no channel id.');
    }
    return channelId;
  }

  /** Returns the id of a channel given by name (with or without `#`) or id, or null when no channel has that name. */
  async function channelId(channel: string, delivery: Delivery): Promise<string | null> {
    if (/^[CGD][A-Z0-9]{6,}$/.test(channel)) return channel;
    const name = channel.replace(/^#/, '');
    let cursor: string | undefined;
    for (let page = 0; page < maxPages; page += 1) {
      const context = { method: 'conversations.list', ruleId: delivery.ruleId, channel };
      const listed = await call(context, () =>
        client.conversations.list({ types: 'public_channel,private_channel', exclude_archived: true, limit: 200, cursor }),
      );
      const found = listed.channels?.find((candidate) => candidate.name === name);
      if (found?.id) return found.id;
      cursor = listed.response_metadata?.next_cursor || undefined;
      if (!cursor) break;
    }
    return null;
  }

  /** Looks through the channel's history since `oldest` for the message that carries the delivery key. */
  async function findInHistory(channel: string, delivery: Delivery, oldest: string): Promise<SendReceipt | null> {
    let cursor: string | undefined;
    for (let page = 0; page < maxPages; page += 1) {
      const context = { method: 'conversations.history', ruleId: delivery.ruleId, channel };
      const history = await call(context, () =>
        client.conversations.history({ channel, oldest, include_all_metadata: true, limit: 200, cursor }),
      );
      const message = history.messages?.find((candidate) => {
        const metadata = candidate.metadata as { event_type?: string; event_payload?: { delivery_key?: unknown } } | undefined;
        return metadata?.event_type === deliveryMetadataType && metadata.event_payload?.delivery_key === delivery.key;
      });
      if (message?.ts) return { id: `${channel}:${message.ts}`, outbox: false };
      cursor = history.response_metadata?.next_cursor || undefined;
      if (!cursor) break;
    }
    return null;
  }

  return {
    name: connectorName,
    mode: 'live',
    templates: slackTemplates,

    describe() {
      return `Slack: posting messages to ${settings.apiUrl ?? 'https://slack.com/api/'} with the bot token in SLACK_TOKEN.`;
    },

    preview: (delivery) => renderPreview(delivery),

    async send(delivery: Delivery): Promise<SendReceipt> {
      const target = resolveTarget(delivery);
      const message = renderSlackMessage(delivery);

      const channel = target.kind === 'channel' ? target.channel : await openDirectMessage(target, delivery);
      const context = { method: 'chat.postMessage', ruleId: delivery.ruleId, channel: targetLabel(target) };
      const result = await call(context, () => client.chat.postMessage(postMessageArguments(channel, message, delivery.key)));

      return { id: `${result.channel ?? channel}:${result.ts ?? ''}`, outbox: false };
    },

    async findSent(delivery: Delivery, since: Date): Promise<SendReceipt | null> {
      const target = resolveTarget(delivery);
      const oldest = String(Math.floor(since.getTime() / 1000) - historyMarginSeconds);
      try {
        const channel = target.kind === 'channel' ? await channelId(target.channel, delivery) : await openDirectMessage(target, delivery);
        return channel ? await findInHistory(channel, delivery, oldest) : null;
      } catch (error) {
        // Without a history scope the search is impossible; sending again risks a repeat but loses nothing.
        if (error instanceof ConnectorError && error.kind === 'permanent') {
          logger.warn({ deliveryKey: delivery.key, code: error.code, reason: error.message }, 'Slack history search failed, so the message is sent again');
          return null;
        }
        throw error;
      }
    },

    async close() {
      // The WebClient has no method that releases its HTTP connections, so there is nothing to call here.
    },
  };
}

function createOutboxConnector(settings: SlackSettings, logger: ConnectorLogger): Connector {
  const folder = outboxFolderForDisplay(settings.outboxDir, connectorName);

  return {
    name: connectorName,
    mode: 'outbox',
    templates: slackTemplates,

    describe() {
      return `Slack: not configured, so messages are written as JSON files to ${folder}. Set SLACK_TOKEN to a bot token (xoxb-…) to post to Slack.`;
    },

    preview: (delivery) => renderPreview(delivery),

    async send(delivery: Delivery): Promise<SendReceipt> {
      const target = resolveTarget(delivery);
      if (target.kind === 'agent' && !target.email) throw missingAgentEmail(target, delivery);
      const message = renderSlackMessage(delivery);
      const record = {
        connector: connectorName,
        deliveryKey: delivery.key,
        target: targetLabel(target),
        requests: outboxRequests(target, message, delivery.key),
      };

      const file = await writeOutboxFile(settings.outboxDir, connectorName, delivery.key, 'json', `${JSON.stringify(record, null, 2)}\n`);
      logger.info({ deliveryKey: delivery.key, file }, 'Slack message written to the outbox');
      return { id: file, outbox: true };
    },

    async close() {},
  };
}

function renderPreview(delivery: Delivery): Preview {
  const target = resolveTarget(delivery);
  const message = renderSlackMessage(delivery);
  return { connector: connectorName, target: targetLabel(target), text: message.text };
}

/** Reads where the message goes. Clients are not members of the team's Slack, so a client recipient is skipped. */
function resolveTarget(delivery: Delivery): SlackTarget {
  const recipient = delivery.recipient;
  switch (recipient.kind) {
    case 'channel':
      return { kind: 'channel', channel: recipient.channel };
    case 'agent': {
      const agent = delivery.agent;
      const name = agent ? personName(agent) : 'unknown';
      return { kind: 'agent', agentId: recipient.agentId, email: agent?.email?.trim() || null, label: `agent ${name} (id ${recipient.agentId})` };
    }
    case 'client':
      throw new DeliverySkipped(
        `Slack messages go to channels and agents, not clients: rule ${delivery.ruleId} sends to client ${recipient.clientId}.`,
      );
  }
}

function targetLabel(target: SlackTarget): string {
  return target.kind === 'channel' ? target.channel : `direct message to ${target.label}`;
}

function missingAgentEmail(target: Extract<SlackTarget, { kind: 'agent' }>, delivery: Delivery): ConnectorError {
  return new ConnectorError(
    connectorName,
    'permanent',
    'SLACK_AGENT_EMAIL_MISSING',
    `Rule ${delivery.ruleId} sends a direct message to ${target.label}, who has no email in Repliers, so their Slack user cannot be found. Add the agent's email in Repliers.`,
  );
}

function postMessageArguments(channel: string, message: SlackMessage, deliveryKey: string) {
  // The message already shows the listing photo, so unfurling the listing link would only add a second preview.
  // The metadata carries the delivery key, which findSent looks for after a crash.
  return {
    channel,
    text: message.text,
    blocks: message.blocks,
    unfurl_links: false,
    unfurl_media: false,
    metadata: { event_type: deliveryMetadataType, event_payload: { delivery_key: deliveryKey } },
  };
}

/** Lists the Web API calls a live send would make. Values known only after a call are written as placeholders. */
function outboxRequests(target: SlackTarget, message: SlackMessage, deliveryKey: string): object[] {
  if (target.kind === 'channel') {
    return [{ method: 'chat.postMessage', arguments: postMessageArguments(target.channel, message, deliveryKey) }];
  }
  return [
    { method: 'users.lookupByEmail', arguments: { email: target.email } },
    { method: 'conversations.open', arguments: { users: '<user id from users.lookupByEmail>' } },
    { method: 'chat.postMessage', arguments: postMessageArguments('<channel id from conversations.open>', message, deliveryKey) },
  ];
}
