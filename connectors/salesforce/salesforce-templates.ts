/**
 * Salesforce records for each template: a subject line and a plain-text description, used as a Task's Subject and
 * Description or a Note's Title and Body. Salesforce shows these fields as plain text, so nothing is escaped.
 */
import { ConnectorError, type Delivery } from '../connector.js';
import { describeLastStatus, formatPrice, formatPriceChange, listingLabel, personName, salePriceLines } from '../format.js';

export const salesforceTemplates = ['favorite-created', 'price-drop', 'listing-sold'] as const;
export type SalesforceTemplate = (typeof salesforceTemplates)[number];

export interface SalesforceActivity {
  subject: string;
  description: string;
}

/** Field lengths from the Salesforce object reference: Task.Subject, Note.Title and the long text areas. */
export const fieldLimits = { taskSubject: 255, noteTitle: 80, longText: 32_000 } as const;

export function isSalesforceTemplate(name: string): name is SalesforceTemplate {
  return (salesforceTemplates as readonly string[]).includes(name);
}

/** Renders the delivery's template. Throws a permanent ConnectorError when the rule names an unknown template. */
export function renderSalesforceActivity(delivery: Delivery): SalesforceActivity {
  const template = delivery.action.template;
  if (!isSalesforceTemplate(template)) {
    throw new ConnectorError(
      'salesforce',
      'permanent',
      'SALESFORCE_UNKNOWN_TEMPLATE',
      `Rule ${delivery.ruleId} names the Salesforce template "${template}", which does not exist. Use one of: ${salesforceTemplates.join(', ')}.`,
    );
  }

  const label = listingLabel(delivery);
  const { subject, summary, details } = templateParts[template](delivery, label);
  const lines = [summary, '', ...details, ...commonDetails(delivery)];
  return { subject, description: lines.join('\n') };
}

interface TemplateParts {
  subject: string;
  /** The first line of the description, a sentence about what happened. */
  summary: string;
  details: string[];
}

const templateParts: Record<SalesforceTemplate, (delivery: Delivery, label: string) => TemplateParts> = {
  'favorite-created': (delivery, label) => {
    const comment = delivery.favorite?.comments?.trim();
    return {
      subject: `Favorited ${label}`,
      summary: `${clientName(delivery)} added ${label} to their favorites.`,
      details: [`List price: ${formatPrice(delivery.listing?.listPrice)}`, ...(comment ? [`Client comment: ${comment}`] : [])],
    };
  },

  'price-drop': (delivery, label) => {
    const price = delivery.change?.price ?? null;
    if (!price) {
      return {
        subject: `Price change on favorite ${label}`,
        summary: `The price of ${label}, a favorite of ${clientName(delivery)}, changed.`,
        details: [`List price: ${formatPrice(delivery.listing?.listPrice)}`],
      };
    }
    const change = formatPriceChange(price);
    const word = price.amount < 0 ? 'dropped' : 'changed';
    return {
      subject: `Price ${price.amount < 0 ? 'drop' : 'change'} on favorite ${label}: ${change}`,
      summary: `The price of ${label}, a favorite of ${clientName(delivery)}, ${word} by ${change}.`,
      details: [`Price: ${formatPrice(price.from)} → ${formatPrice(price.to)}`],
    };
  },

  'listing-sold': (delivery, label) => {
    const status = describeLastStatus(delivery.change?.lastStatus?.to ?? delivery.listing?.lastStatus ?? null);
    return {
      subject: `Favorite ${status}: ${label}`,
      summary: `${label}, a favorite of ${clientName(delivery)}, is now ${status}.`,
      details: salePriceLines(delivery.listing),
    };
  },
};

function clientName(delivery: Delivery): string {
  return delivery.client ? personName(delivery.client) : 'a client';
}

/** Lines every description ends with: the link, the agent and the ids that trace the record back to the hub. */
function commonDetails(delivery: Delivery): string[] {
  const lines: string[] = [];
  if (delivery.listing?.url) lines.push(`Listing page: ${delivery.listing.url}`);
  if (delivery.agent) lines.push(`Agent: ${personName(delivery.agent)}`);
  lines.push('', `Created by the Repliers hub for rule ${delivery.ruleId}, event ${delivery.eventId}, delivery ${delivery.key}.`);
  return lines;
}

export function truncate(text: string, maxLength: number): string {
  return text.length <= maxLength ? text : `${text.slice(0, maxLength - 1)}…`;
}
