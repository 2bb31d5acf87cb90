/**
 * The Slack connector: posts Block Kit messages with chat.postMessage, to a channel named in the rule or as a direct
 * message to an agent. Without SLACK_TOKEN it writes each would-be request to the outbox instead.
 */
import path from 'node:path';

import { LogLevel, WebClient } from '@slack/web-api';

import { ConnectorError, DeliverySkipped, type Connector, type Delivery, type Preview, type SendReceipt } from '../connector.js';
import { personName } from '../format.js';
import { writeOutboxFile } from '../outbox.js';
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

export function createSlackConnector(settings: SlackSettings, logger: ConnectorLogger = silentLogger): Connector {
  return settings.token ? createLiveConnector(settings.token, settings) : createOutboxConnector(settings, logger);
}

function createLiveConnector(token: string, settings: SlackSettings): Connector {
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
      const result = await call(context, () => client.chat.postMessage(postMessageArguments(channel, message)));

      return { id: `${result.channel ?? channel}:${result.ts ?? ''}`, outbox: false };
    },

    async close() {
      // The WebClient has no method that releases its HTTP connections, so there is nothing to call here.
    },
  };
}

function createOutboxConnector(settings: SlackSettings, logger: ConnectorLogger): Connector {
  const folder = path.resolve(settings.outboxDir, connectorName);

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
        requests: outboxRequests(target, message),
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

function postMessageArguments(channel: string, message: SlackMessage) {
  // The message already shows the listing photo, so unfurling the listing link would only add a second preview.
  return { channel, text: message.text, blocks: message.blocks, unfurl_links: false, unfurl_media: false };
}

/** Lists the Web API calls a live send would make. Values known only after a call are written as placeholders. */
function outboxRequests(target: SlackTarget, message: SlackMessage): object[] {
  if (target.kind === 'channel') {
    return [{ method: 'chat.postMessage', arguments: postMessageArguments(target.channel, message) }];
  }
  return [
    { method: 'users.lookupByEmail', arguments: { email: target.email } },
    { method: 'conversations.open', arguments: { users: '<user id from users.lookupByEmail>' } },
    { method: 'chat.postMessage', arguments: postMessageArguments('<channel id from conversations.open>', message) },
  ];
}
