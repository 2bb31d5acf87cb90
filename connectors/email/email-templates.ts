/**
 * Email templates. Every value taken from a listing, a client or an agent is escaped in HTML, and header values
 * (the subject) are stripped of line breaks and control characters so listing data cannot add a header.
 */
import type { Delivery } from '../connector.js';
import { describeLastStatus, formatPrice, formatPriceChange, personName } from '../format.js';

export interface RenderedEmail {
  subject: string;
  text: string;
  html: string;
}

export const emailTemplates = ['price-drop', 'listing-sold'] as const;

const htmlEntities: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (character) => htmlEntities[character]!);
}

/** Removes CR, LF and other control characters, so a value is safe inside a header. */
export function headerSafe(value: string): string {
  return value.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
}

function safeUrl(url: string | null): string | null {
  return url && /^https?:\/\//i.test(url) ? url : null;
}

function signature(delivery: Delivery): { text: string; html: string } {
  const agent = delivery.agent;
  if (!agent) return { text: '', html: '' };
  const lines = [personName(agent), agent.brokerage, agent.phone, agent.email].filter(
    (line): line is string => typeof line === 'string' && line.trim() !== '',
  );
  return {
    text: `\n--\n${lines.join('\n')}\n`,
    html: `<p style="color:#555;border-top:1px solid #ddd;padding-top:8px">${lines.map(escapeHtml).join('<br>')}</p>`,
  };
}

function layout(delivery: Delivery, headline: string, facts: string[]): { text: string; html: string } {
  const listing = delivery.listing!;
  const photo = safeUrl(listing.photoUrl);
  const link = safeUrl(listing.url);
  const greeting = delivery.client?.fname ? `Hello ${delivery.client.fname},` : 'Hello,';
  const sign = signature(delivery);

  const text = [
    greeting,
    '',
    headline,
    '',
    ...facts.map((fact) => `- ${fact}`),
    link ? `\nSee the listing: ${link}` : '',
    sign.text,
  ].join('\n');

  const html = [
    '<!doctype html><html><body style="font-family:sans-serif;max-width:600px">',
    `<p>${escapeHtml(greeting)}</p>`,
    `<p><strong>${escapeHtml(headline)}</strong></p>`,
    photo ? `<p><img src="${escapeHtml(photo)}" alt="${escapeHtml(listing.address)}" width="560"></p>` : '',
    `<ul>${facts.map((fact) => `<li>${escapeHtml(fact)}</li>`).join('')}</ul>`,
    link ? `<p><a href="${escapeHtml(link)}">See the listing</a></p>` : '',
    sign.html,
    '</body></html>',
  ].join('\n');
  return { text, html };
}

export function renderEmail(delivery: Delivery): RenderedEmail {
  const listing = delivery.listing;
  if (!listing) throw new Error(`email template "${delivery.action.template}" needs a listing`);

  switch (delivery.action.template) {
    case 'price-drop': {
      const price = delivery.change?.price;
      const from = formatPrice(price?.from ?? null);
      const to = formatPrice(price?.to ?? listing.listPrice);
      const headline = `The price of ${listing.address} changed from ${from} to ${to}.`;
      const facts = [
        `Old price: ${from}`,
        `New price: ${to}`,
        ...(price ? [`Change: ${formatPriceChange(price)}`] : []),
        `Status: ${describeLastStatus(listing.lastStatus)}`,
        `MLS number: ${listing.mlsNumber}`,
      ];
      return { subject: headerSafe(`Price change: ${listing.address} now ${to}`), ...layout(delivery, headline, facts) };
    }
    case 'listing-sold': {
      const status = describeLastStatus(listing.lastStatus);
      const headline = `${listing.address}, a listing you saved, is now ${status}.`;
      const facts = [`Last price: ${formatPrice(listing.listPrice)}`, `Status: ${status}`, `MLS number: ${listing.mlsNumber}`];
      return { subject: headerSafe(`Update: ${listing.address} is ${status}`), ...layout(delivery, headline, facts) };
    }
    default:
      throw new Error(`unknown email template "${delivery.action.template}"`);
  }
}
