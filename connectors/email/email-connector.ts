/**
 * The email connector: nodemailer over a pooled SMTP transport when SMTP_URL is set, else `.eml` files in the
 * outbox. Clients who are disabled, deleted or opted out, and listings whose board forbids public display, are
 * skipped, never emailed.
 */
import nodemailer, { type Transporter } from 'nodemailer';
import { ConnectorError, DeliverySkipped, type Connector, type Delivery, type Preview, type SendReceipt } from '../connector.js';
import { personName } from '../format.js';
import { writeOutboxFile } from '../outbox.js';
import { emailTemplates, headerSafe, renderEmail } from './email-templates.js';

export interface EmailSettings {
  smtpUrl: string | null;
  from: string;
  outboxDir: string;
  /** Simultaneous SMTP connections of the pool. Default 5. */
  maxConnections?: number;
}

interface Recipient {
  address: string;
  name: string;
}

function recipientOf(delivery: Delivery): Recipient {
  if (delivery.recipient.kind === 'agent') {
    const agent = delivery.agent;
    if (!agent?.email) throw new DeliverySkipped(`agent ${delivery.recipient.agentId} has no email address`);
    return { address: agent.email, name: personName(agent) };
  }
  if (delivery.recipient.kind !== 'client') throw new DeliverySkipped('email goes to clients or agents, not channels');

  const client = delivery.client;
  if (!client) throw new DeliverySkipped(`client ${delivery.recipient.clientId} is not in the mirror`);
  if (client.deletedAt) throw new DeliverySkipped(`client ${client.clientId} is deleted`);
  if (!client.status) throw new DeliverySkipped(`client ${client.clientId} is disabled in Repliers`);
  if (client.optedOutAt) throw new DeliverySkipped(`client ${client.clientId} opted out of email`);
  if (!client.email) throw new DeliverySkipped(`client ${client.clientId} has no email address`);
  if (delivery.listing && !delivery.listing.displayPublic) {
    throw new DeliverySkipped(`listing ${delivery.listing.mlsNumber} may not be displayed publicly`);
  }
  return { address: client.email, name: personName(client) };
}

/** SMTP reply codes and socket errors that are worth retrying; 5xx replies are permanent. */
function classify(error: unknown): ConnectorError {
  const details = error as { responseCode?: number; code?: string; message?: string };
  const message = details.message ?? String(error);
  if (typeof details.responseCode === 'number' && details.responseCode >= 500) {
    return new ConnectorError('email', 'permanent', 'EMAIL_REJECTED', `the SMTP server rejected the message (${details.responseCode}): ${message}`, { cause: error });
  }
  if (details.code === 'EAUTH') {
    return new ConnectorError('email', 'permanent', 'EMAIL_AUTH', `SMTP login failed: check the user and password in SMTP_URL (${message})`, { cause: error });
  }
  return new ConnectorError('email', 'temporary', 'EMAIL_UNAVAILABLE', `sending failed, will retry: ${message}`, { cause: error });
}

export function createEmailConnector(settings: EmailSettings): Connector {
  const live = settings.smtpUrl !== null;
  const transport: Transporter = live
    ? nodemailer.createTransport({ ...parseSmtpUrl(settings.smtpUrl!), pool: true, maxConnections: settings.maxConnections ?? 5 })
    : nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });

  function message(delivery: Delivery) {
    const to = recipientOf(delivery);
    const rendered = renderEmail(delivery);
    return {
      from: settings.from,
      to: { name: headerSafe(to.name), address: to.address },
      subject: rendered.subject,
      text: rendered.text,
      html: rendered.html,
      // A Message-ID derived from the delivery key lets a receiving system spot a repeat of the same delivery.
      messageId: `<${delivery.key}@hub.invalid>`,
      headers: { 'X-Hub-Delivery': delivery.key, 'X-Hub-Rule': headerSafe(delivery.ruleId) },
    };
  }

  return {
    name: 'email',
    mode: live ? 'live' : 'outbox',
    templates: emailTemplates,

    describe() {
      if (live) return `email: sending through SMTP at ${new URL(settings.smtpUrl!).host}`;
      return `email: SMTP_URL is not set, so emails are written as .eml files to ${settings.outboxDir}/email/ (set SMTP_URL=smtp://host:port to send them)`;
    },

    preview(delivery: Delivery): Preview {
      const mail = message(delivery);
      return { connector: 'email', target: mail.to.address, subject: mail.subject, text: mail.text, html: mail.html };
    },

    async send(delivery: Delivery): Promise<SendReceipt> {
      const mail = message(delivery);
      let info: { messageId: string; message?: Buffer };
      try {
        info = (await transport.sendMail(mail)) as { messageId: string; message?: Buffer };
      } catch (error) {
        throw classify(error);
      }
      if (live) return { id: info.messageId, outbox: false };
      const file = await writeOutboxFile(settings.outboxDir, 'email', delivery.key, 'eml', info.message ?? Buffer.alloc(0));
      return { id: file, outbox: true };
    },

    async close() {
      transport.close();
    },
  };
}

/** Turns smtp://user:pass@host:port into nodemailer options; smtps:// means TLS from the first byte. */
function parseSmtpUrl(smtpUrl: string) {
  const url = new URL(smtpUrl);
  const secure = url.protocol === 'smtps:';
  return {
    host: url.hostname,
    port: url.port ? Number(url.port) : secure ? 465 : 25,
    secure,
    auth: url.username ? { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } : undefined,
    // Plain SMTP to a local catcher offers no STARTTLS; nodemailer upgrades whenever the server offers it.
    ignoreTLS: url.searchParams.get('ignoreTLS') === 'true',
  };
}
