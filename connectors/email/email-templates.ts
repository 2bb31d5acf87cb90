/**
 * Email templates: one listing per email (`price-drop`, `listing-sold`) and the digest of several. Each shows the
 * listing photo, the address, the old and new price with the amount and percent, the status, a link and the
 * agent's signature, in HTML and plain text.
 *
 * Every value taken from a listing, a client or an agent is escaped in HTML. Header values (the subject, names) are
 * stripped of line breaks and control characters, so listing data cannot add a header. nodemailer encodes non-ASCII
 * header text as RFC 2047 encoded words.
 */
import { ConnectorError, type Delivery, type ListingView } from '../connector.js';
import { describeLastStatus, formatPrice, formatPriceChange, personName, salePriceLines } from '../format.js';

export interface RenderedEmail {
  subject: string;
  text: string;
  html: string;
}

/** Content of an email besides the delivery: the unsubscribe link of a client email, when links are on. */
export interface EmailExtras {
  unsubscribeUrl: string | null;
}

export const emailTemplates = ['price-drop', 'listing-sold'] as const;

const htmlEntities: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (character) => htmlEntities[character]!);
}

/**
 * Removes CR, LF, other C0 and C1 control characters and the Unicode line and paragraph separators, so a value is
 * safe inside a header and shows on one line.
 */
export function headerSafe(value: string): string {
  return value.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ').trim();
}

function safeUrl(url: string | null): string | null {
  return url && /^https?:\/\//i.test(url) ? url : null;
}

/** One listing as the templates show it: a headline and facts, with the photo and link when they are usable. */
interface ListingSection {
  headline: string;
  facts: string[];
  photo: string | null;
  link: string | null;
  address: string;
}

function listingOf(delivery: Delivery): ListingView {
  if (delivery.listing) return delivery.listing;
  throw new ConnectorError(
    'email',
    'permanent',
    'EMAIL_LISTING_MISSING',
    `Rule ${delivery.ruleId} sends the email template "${delivery.action.template}" for a ${delivery.eventType} event that carries no listing. Send it for listing or favorite events only.`,
  );
}

function section(delivery: Delivery): ListingSection & { subject: string } {
  const listing = listingOf(delivery);
  const base = { photo: safeUrl(listing.photoUrl), link: safeUrl(listing.url), address: listing.address };

  switch (delivery.action.template) {
    case 'price-drop': {
      const price = delivery.change?.price;
      const from = formatPrice(price?.from ?? null);
      const to = formatPrice(price?.to ?? listing.listPrice);
      return {
        ...base,
        subject: `Price change: ${listing.address} now ${to}`,
        headline: `The price of ${listing.address} changed from ${from} to ${to}.`,
        facts: [
          `Old price: ${from}`,
          `New price: ${to}`,
          ...(price ? [`Change: ${formatPriceChange(price)}`] : []),
          `Status: ${describeLastStatus(listing.lastStatus)}`,
          `MLS number: ${listing.mlsNumber}`,
        ],
      };
    }
    case 'listing-sold': {
      const status = describeLastStatus(listing.lastStatus);
      return {
        ...base,
        subject: `Update: ${listing.address} is ${status}`,
        headline: `${listing.address}, a listing you saved, is now ${status}.`,
        facts: [...salePriceLines(listing), `Status: ${status}`, `MLS number: ${listing.mlsNumber}`],
      };
    }
    default:
      throw new ConnectorError(
        'email',
        'permanent',
        'EMAIL_UNKNOWN_TEMPLATE',
        `Rule ${delivery.ruleId} names the email template "${delivery.action.template}", which does not exist. Use one of: ${emailTemplates.join(', ')}.`,
      );
  }
}

/** Formats a North American number as Repliers stores it (11 digits, 1 first) as "+1 613-555-0100"; others pass as they are. */
function formatPhone(phone: string | null): string | null {
  const digits = phone?.replace(/\D/g, '') ?? '';
  if (digits.length === 11 && digits.startsWith('1')) return `+1 ${digits.slice(1, 4)}-${digits.slice(4, 7)}-${digits.slice(7)}`;
  return phone;
}

function signature(delivery: Delivery): { text: string; html: string } {
  const agent = delivery.agent;
  if (!agent) return { text: '', html: '' };
  const lines = [personName(agent), agent.brokerage, formatPhone(agent.phone), agent.email].filter(
    (line): line is string => typeof line === 'string' && line.trim() !== '',
  );
  return {
    text: `\n--\n${lines.join('\n')}\n`,
    html: `<p style="color:#555;border-top:1px solid #ddd;padding-top:8px">${lines.map(escapeHtml).join('<br>')}</p>`,
  };
}

function footer(extras: EmailExtras): { text: string; html: string } {
  const link = safeUrl(extras.unsubscribeUrl);
  if (!link) return { text: '', html: '' };
  return {
    text: `\nYou get these emails because you saved listings. Unsubscribe: ${link}\n`,
    html:
      '<p style="color:#888;font-size:12px">You get these emails because you saved listings. ' +
      `<a href="${escapeHtml(link)}">Unsubscribe</a></p>`,
  };
}

function sectionText(part: ListingSection): string {
  return [part.headline, '', ...part.facts.map((fact) => `- ${fact}`), part.link ? `See the listing: ${part.link}` : ''].join('\n').trimEnd();
}

function sectionHtml(part: ListingSection, heading: 'strong' | 'h2'): string {
  const headline = heading === 'h2' ? `<h2 style="font-size:1.1em">${escapeHtml(part.headline)}</h2>` : `<p><strong>${escapeHtml(part.headline)}</strong></p>`;
  return [
    headline,
    part.photo ? `<p><img src="${escapeHtml(part.photo)}" alt="${escapeHtml(part.address)}" width="560" style="max-width:100%"></p>` : '',
    `<ul>${part.facts.map((fact) => `<li>${escapeHtml(fact)}</li>`).join('')}</ul>`,
    part.link ? `<p><a href="${escapeHtml(part.link)}">See the listing</a></p>` : '',
  ].join('\n');
}

function greeting(delivery: Delivery): string {
  const name = delivery.recipient.kind === 'agent' ? delivery.agent?.fname : delivery.client?.fname;
  return name?.trim() ? `Hello ${headerSafe(name)},` : 'Hello,';
}

function document(bodyParts: string[]): string {
  return ['<!doctype html><html><head><meta charset="utf-8"></head><body style="font-family:sans-serif;max-width:600px">', ...bodyParts, '</body></html>'].join('\n');
}

/** Renders the email of one delivery. Throws for an unknown template or a delivery without a listing. */
export function renderEmail(delivery: Delivery, extras: EmailExtras = { unsubscribeUrl: null }): RenderedEmail {
  const part = section(delivery);
  const hello = greeting(delivery);
  const sign = signature(delivery);
  const end = footer(extras);

  const text = [hello, '', sectionText(part), sign.text, end.text].join('\n');
  const html = document([`<p>${escapeHtml(hello)}</p>`, sectionHtml(part, 'strong'), sign.html, end.html]);
  return { subject: headerSafe(part.subject), text, html };
}

/** Renders one email about several deliveries to the same recipient, each listing in its own section. */
export function renderDigest(deliveries: readonly Delivery[], extras: EmailExtras = { unsubscribeUrl: null }): RenderedEmail {
  const first = deliveries[0];
  if (!first) throw new Error('a digest needs at least one delivery');
  const parts = deliveries.map(section);
  const hello = greeting(first);
  // The newest delivery carries the freshest agent record.
  const sign = signature(deliveries[deliveries.length - 1]!);
  const end = footer(extras);

  const intro = `${parts.length} listings you saved have changed.`;
  const text = [hello, '', intro, '', parts.map(sectionText).join('\n\n'), sign.text, end.text].join('\n');
  const html = document([
    `<p>${escapeHtml(hello)}</p>`,
    `<p>${escapeHtml(intro)}</p>`,
    parts.map((part) => sectionHtml(part, 'h2')).join('\n<hr style="border:none;border-top:1px solid #eee">\n'),
    sign.html,
    end.html,
  ]);
  const addresses = parts.map((part) => part.address);
  const subject = `${parts.length} updates on listings you saved: ${addresses.slice(0, 2).join(', ')}${addresses.length > 2 ? ' and more' : ''}`;
  return { subject: headerSafe(subject), text, html };
}
