/**
 * The email connector: nodemailer over a pooled SMTP transport when SMTP_URL is set, else `.eml` files in the
 * outbox. Clients who are disabled, deleted or opted out, and listings whose board forbids public display, are
 * skipped, never emailed.
 *
 * Once in effect: SMTP has no idempotency key, so the Message-ID is made of the delivery key (or the digest id) and
 * is the same on every retry. A message sent again after a crash carries the Message-ID of the first, and mail
 * systems that drop repeated Message-IDs show it once.
 */
import nodemailer, { type Transporter } from 'nodemailer';
import { unsubscribeUrl } from '../../src/unsubscribe/unsubscribe-token.js';
import { ConnectorError, DeliverySkipped, type Connector, type Delivery, type Preview, type SendReceipt } from '../connector.js';
import { personName } from '../format.js';
import { outboxFolderForDisplay, writeOutboxFile } from '../outbox.js';
import { emailTemplates, headerSafe, renderDigest, renderEmail, type RenderedEmail } from './email-templates.js';
import { parseSmtpUrl } from './smtp-url.js';

export interface EmailSettings {
  smtpUrl: string | null;
  from: string;
  outboxDir: string;
  /** Simultaneous SMTP connections of the pool. Default 5. */
  maxConnections?: number;
  /** PUBLIC_URL and UNSUBSCRIBE_SECRET; client emails carry an unsubscribe link and header only when both are set. */
  unsubscribe?: { publicUrl: string; secret: string } | null;
}

interface Recipient {
  address: string;
  name: string;
  /** Set for clients, who may unsubscribe; agents get no unsubscribe link. */
  clientId: string | null;
}

/**
 * A plain address without display name, comments or quoting: the part before `@` and a dotted domain, no spaces,
 * control characters, angle brackets or commas, which nodemailer would read as more addresses.
 */
const addressPattern = /^[^\s@<>(),;:"\\\u0000-\u001f\u007f]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?)+$/;

function checkedAddress(address: string, owner: string): string {
  const trimmed = address.trim();
  if (!addressPattern.test(trimmed)) {
    throw new ConnectorError(
      'email',
      'permanent',
      'EMAIL_ADDRESS_INVALID',
      `The email address of ${owner} is not a valid address (${JSON.stringify(trimmed.slice(0, 100))}). Correct it in Repliers; the next event sends to the new address.`,
    );
  }
  return trimmed;
}

function recipientOf(delivery: Delivery): Recipient {
  if (delivery.recipient.kind === 'agent') {
    const agent = delivery.agent;
    if (!agent?.email) throw new DeliverySkipped(`agent ${delivery.recipient.agentId} has no email address`);
    return { address: checkedAddress(agent.email, `agent ${agent.agentId}`), name: personName(agent), clientId: null };
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
  return { address: checkedAddress(client.email, `client ${client.clientId}`), name: personName(client), clientId: client.clientId };
}

/** SMTP reply codes and socket errors that are worth retrying; 5xx replies are permanent. */
function classify(error: unknown): ConnectorError {
  const details = error as { responseCode?: number; code?: string; message?: string };
  const message = details.message ?? String(error);
  if (typeof details.responseCode === 'number' && details.responseCode >= 500) {
    return new ConnectorError(
      'email',
      'permanent',
      'EMAIL_REJECTED',
      `The SMTP server rejected the message (${details.responseCode}): ${message}. Check the recipient address and MAIL_FROM; the server's reply says which.`,
      { cause: error },
    );
  }
  if (details.code === 'EAUTH') {
    return new ConnectorError('email', 'permanent', 'EMAIL_AUTH', `SMTP login failed: check the user and password in SMTP_URL (${message}).`, { cause: error });
  }
  return new ConnectorError('email', 'temporary', 'EMAIL_UNAVAILABLE', `Sending failed and will be retried: ${message}.`, { cause: error });
}

/** Returns the domain of MAIL_FROM for Message-IDs, or `hub.invalid` when it has none. */
function fromDomain(from: string): string {
  const domain = /@([A-Za-z0-9.-]+)>?\s*$/.exec(from)?.[1];
  return domain ?? 'hub.invalid';
}

export function createEmailConnector(settings: EmailSettings): Connector {
  const live = settings.smtpUrl !== null;
  const transport: Transporter = live
    ? nodemailer.createTransport({
        ...parseSmtpUrl(settings.smtpUrl!),
        pool: true,
        maxConnections: settings.maxConnections ?? 5,
        // nodemailer closes a pooled connection after 100 messages by default. Each new connection costs a handshake,
        // and a greeting delay at servers that wait before greeting, so connections are kept for more messages.
        maxMessages: 10_000,
      })
    : nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  const domain = fromDomain(settings.from);
  const unsubscribe = settings.unsubscribe ?? null;

  function unsubscribeLink(recipient: Recipient): string | null {
    if (!unsubscribe || recipient.clientId === null) return null;
    return unsubscribeUrl(unsubscribe.publicUrl, unsubscribe.secret, recipient.clientId);
  }

  /** Builds the nodemailer message. `id` is the delivery key or digest id that the Message-ID is made of. */
  function message(recipient: Recipient, rendered: RenderedEmail, id: string, ruleId: string, link: string | null) {
    const headers: Record<string, string> = { 'X-Hub-Delivery': id, 'X-Hub-Rule': headerSafe(ruleId) };
    if (link) {
      headers['List-Unsubscribe'] = `<${link}>`;
      headers['List-Unsubscribe-Post'] = 'List-Unsubscribe=One-Click';
    }
    return {
      from: settings.from,
      to: { name: headerSafe(recipient.name), address: recipient.address },
      subject: rendered.subject,
      text: rendered.text,
      html: rendered.html,
      messageId: `<${id}@${domain}>`,
      headers,
    };
  }

  function single(delivery: Delivery) {
    const recipient = recipientOf(delivery);
    const link = unsubscribeLink(recipient);
    return message(recipient, renderEmail(delivery, { unsubscribeUrl: link }), delivery.key, delivery.ruleId, link);
  }

  async function deliver(mail: ReturnType<typeof message>, outboxKey: string): Promise<SendReceipt> {
    let info: { messageId: string; message?: Buffer };
    try {
      info = (await transport.sendMail(mail)) as { messageId: string; message?: Buffer };
    } catch (error) {
      throw classify(error);
    }
    if (live) return { id: info.messageId, outbox: false };
    const file = await writeOutboxFile(settings.outboxDir, 'email', outboxKey, 'eml', info.message ?? Buffer.alloc(0));
    return { id: file, outbox: true };
  }

  return {
    name: 'email',
    mode: live ? 'live' : 'outbox',
    templates: emailTemplates,

    describe() {
      const links = unsubscribe
        ? 'client emails carry an unsubscribe link and List-Unsubscribe header'
        : 'client emails carry no unsubscribe link (set PUBLIC_URL and UNSUBSCRIBE_SECRET to add one)';
      if (live) return `email: sending through SMTP at ${new URL(settings.smtpUrl!).host}; ${links}`;
      return `email: SMTP_URL is not set, so emails are written as .eml files to ${outboxFolderForDisplay(settings.outboxDir, 'email')} (set SMTP_URL=smtp://host:port to send them); ${links}`;
    },

    preview(delivery: Delivery): Preview {
      const mail = single(delivery);
      return { connector: 'email', target: mail.to.address, subject: mail.subject, text: mail.text, html: mail.html };
    },

    async send(delivery: Delivery): Promise<SendReceipt> {
      return deliver(single(delivery), delivery.key);
    },

    digestKey(delivery: Delivery): string | null {
      return delivery.recipient.kind === 'client' ? `client:${delivery.recipient.clientId}` : null;
    },

    async sendDigest(deliveries: readonly Delivery[], digestId: string): Promise<SendReceipt> {
      // The newest delivery has the freshest client record, so its address and name are used.
      const latest = deliveries[deliveries.length - 1];
      if (!latest) throw new Error(`digest ${digestId} has no deliveries`);
      const recipient = recipientOf(latest);
      const link = unsubscribeLink(recipient);
      const mail = message(recipient, renderDigest(deliveries, { unsubscribeUrl: link }), digestId, latest.ruleId, link);
      return deliver(mail, `digest-${digestId}`);
    },

    async close() {
      transport.close();
    },
  };
}
