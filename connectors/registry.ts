/** Builds every connector from the settings. Adding a connector means adding it here and giving it a folder. */
import type { Settings } from '../src/config/settings.js';
import { createLogger, type Logger } from '../src/logger.js';
import type { Connector } from './connector.js';
import { createEmailConnector } from './email/email-connector.js';
import { createSalesforceConnector } from './salesforce/salesforce-connector.js';
import { createSlackConnector } from './slack/slack-connector.js';
import { createWebhookConnector } from './webhook/webhook-connector.js';

/** The names of every connector, in the order they start. */
export const connectorNames = ['email', 'slack', 'salesforce', 'webhook'] as const;

export function createConnectors(settings: Readonly<Settings>, logger: Logger): Map<string, Connector> {
  const unsubscribe =
    settings.publicUrl && settings.unsubscribeSecret ? { publicUrl: settings.publicUrl, secret: settings.unsubscribeSecret } : null;
  const connectors: Connector[] = [
    createEmailConnector({
      smtpUrl: settings.smtpUrl,
      from: settings.mailFrom,
      outboxDir: settings.outboxDir,
      maxConnections: settings.smtpMaxConnections,
      unsubscribe,
    }),
    createSlackConnector(
      { token: settings.slackToken, apiUrl: settings.slackApiUrl, outboxDir: settings.outboxDir },
      logger.child({ connector: 'slack' }),
    ),
    createSalesforceConnector({ ...settings.salesforce, outboxDir: settings.outboxDir }, logger.child({ connector: 'salesforce' })),
    createWebhookConnector({ ...settings.webhook, outboxDir: settings.outboxDir }),
  ];
  return new Map(connectors.map((connector) => [connector.name, connector]));
}

/** The templates each connector offers, as the rule loader checks them. */
export function templatesOf(connectors: ReadonlyMap<string, Connector>): Map<string, readonly string[]> {
  return new Map([...connectors].map(([name, connector]) => [name, connector.templates]));
}

/**
 * Builds every connector with a silent logger, runs `work` with them and closes them again, for commands that read
 * their templates, previews or modes without sending. Building a connector opens no connection.
 */
export async function withConnectors<T>(settings: Readonly<Settings>, work: (connectors: Map<string, Connector>) => Promise<T>): Promise<T> {
  const connectors = createConnectors(settings, createLogger('silent'));
  try {
    return await work(connectors);
  } finally {
    await Promise.all([...connectors.values()].map((connector) => connector.close()));
  }
}
