/**
 * Slack messages for each template: a Block Kit section with the listing and what happened to it, a context line
 * with the client and agent, and a fallback text that Slack shows in notifications and in clients without blocks.
 * Every piece of text that comes from Repliers passes through the escaping in `escape.ts`.
 */
import type { ContextBlock, KnownBlock, SectionBlock } from '@slack/web-api';

import { ConnectorError, type Delivery } from '../connector.js';
import { describeLastStatus, formatPrice, formatPriceChange, listingLabel, personName, salePriceLines } from '../format.js';
import { escapeMrkdwn, escapeMrkdwnLine, isHttpUrl, mrkdwnLink } from './escape.js';
import { countOf } from '../../src/plural.js';

export const slackTemplates = ['favorite-created', 'price-drop', 'listing-sold'] as const;
export type SlackTemplate = (typeof slackTemplates)[number];

export interface SlackMessage {
  /** Fallback text, escaped mrkdwn without formatting. */
  text: string;
  blocks: KnownBlock[];
}

/** Favorite comments are cut to this many characters, well under the 3,000 that Slack allows in a section. */
const maxCommentLength = 500;

interface MessageParts {
  /** Plain words such as "Price drop". */
  title: string;
  /** Escaped mrkdwn lines under the title. */
  details: string[];
  /** Escaped favorite comment, shown as a quote. */
  comment: string | null;
}

export function isSlackTemplate(name: string): name is SlackTemplate {
  return (slackTemplates as readonly string[]).includes(name);
}

/** Renders the delivery's template. Throws a permanent ConnectorError when the rule names an unknown template. */
export function renderSlackMessage(delivery: Delivery): SlackMessage {
  const template = delivery.action.template;
  if (!isSlackTemplate(template)) {
    throw new ConnectorError(
      'slack',
      'permanent',
      'SLACK_UNKNOWN_TEMPLATE',
      `Rule ${delivery.ruleId} names the Slack template "${template}", which does not exist. Use one of: ${slackTemplates.join(', ')}.`,
    );
  }

  const parts = templateParts[template](delivery);
  const label = delivery.listing ? delivery.listing.address : listingLabel(delivery);
  const linkedLabel = mrkdwnLink(delivery.listing?.url ?? null, label);
  const people = peopleLine(delivery);

  const sectionLines = [`*${parts.title}:* ${linkedLabel}`, ...parts.details];
  if (parts.comment) sectionLines.push(quote(parts.comment));

  const section: SectionBlock = { type: 'section', text: { type: 'mrkdwn', text: sectionLines.join('\n') } };
  const photoUrl = delivery.listing?.photoUrl;
  if (isHttpUrl(photoUrl)) {
    // alt_text is plain text, so it needs no mrkdwn escaping.
    section.accessory = { type: 'image', image_url: photoUrl, alt_text: label };
  }

  const blocks: KnownBlock[] = [section];
  if (people) {
    const context: ContextBlock = { type: 'context', elements: [{ type: 'mrkdwn', text: people }] };
    blocks.push(context);
  }

  const fallback = [`${parts.title}: ${escapeMrkdwnLine(label)}`, ...parts.details, people].filter((line) => line);
  return { text: fallback.join('\n'), blocks };
}

const templateParts: Record<SlackTemplate, (delivery: Delivery) => MessageParts> = {
  'favorite-created': (delivery) => {
    const listing = delivery.listing;
    const mlsNumber = listing?.mlsNumber ?? delivery.favorite?.mlsNumber ?? null;
    const details = [listing ? formatPrice(listing.listPrice) : null, mlsNumber ? `MLS ${escapeMrkdwnLine(mlsNumber)}` : null];
    const comment = delivery.favorite?.comments?.trim();
    return {
      title: 'New favorite',
      details: [details.filter((part) => part).join(' · ')].filter((line) => line),
      comment: comment ? escapeMrkdwn(truncate(comment, maxCommentLength)) : null,
    };
  },

  'price-drop': (delivery) => {
    const price = delivery.change?.price ?? null;
    if (!price) {
      return { title: 'Price change', details: [`Now ${formatPrice(delivery.listing?.listPrice)}`], comment: null };
    }
    const title = price.amount < 0 ? 'Price drop' : price.amount > 0 ? 'Price increase' : 'Price change';
    return {
      title,
      details: [`${formatPrice(price.from)} → ${formatPrice(price.to)}, ${formatPriceChange(price)}`],
      comment: null,
    };
  },

  'listing-sold': (delivery) => {
    const code = delivery.change?.lastStatus?.to ?? delivery.listing?.lastStatus ?? null;
    const status = escapeMrkdwnLine(describeLastStatus(code));
    return {
      title: `Listing ${status}`,
      details: salePriceLines(delivery.listing),
      comment: null,
    };
  },
};

/** Builds "Client: Ada Lovelace · Agent: Grace Hopper", or a favorite count for alerts sent once per event. */
function peopleLine(delivery: Delivery): string {
  const parts: string[] = [];
  if (delivery.client) {
    parts.push(`Client: ${escapeMrkdwnLine(personName(delivery.client))}`);
  } else if (delivery.favoriteCount > 0) {
    parts.push(`Favorited by ${countOf(delivery.favoriteCount, 'client')}`);
  }
  if (delivery.agent) parts.push(`Agent: ${escapeMrkdwnLine(personName(delivery.agent))}`);
  return parts.join(' · ');
}

function quote(escapedText: string): string {
  return escapedText
    .split(/\r?\n/)
    .map((line) => `>${line}`)
    .join('\n');
}

function truncate(text: string, maxLength: number): string {
  return text.length <= maxLength ? text : `${text.slice(0, maxLength - 1)}…`;
}
