/** Formatting shared by every connector's templates. */
import type { Delivery, ListingChange, ListingView } from './connector.js';

const dollars = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD', maximumFractionDigits: 0 });

/** Formats a price as "$699,900"; a missing price reads "price not given". */
export function formatPrice(price: number | null | undefined): string {
  if (price === null || price === undefined || !Number.isFinite(price)) return 'price not given';
  return dollars.format(price);
}

/**
 * Returns the price lines of a sold listing: the sold price, its day and the last list price when the board
 * publishes the sale, else the last list price alone.
 */
export function salePriceLines(listing: ListingView | null): string[] {
  const listPrice = formatPrice(listing?.listPrice);
  if (listing?.soldPrice === null || listing?.soldPrice === undefined) return [`Last list price: ${listPrice}`];
  const sold = `Sold price: ${formatPrice(listing.soldPrice)}${listing.soldDate ? ` on ${listing.soldDate}` : ''}`;
  return [sold, `Last list price: ${listPrice}`];
}

/** Formats a price change as "-$25,000 (-3.6%)". */
export function formatPriceChange(price: NonNullable<ListingChange['price']>): string {
  const sign = price.amount < 0 ? '-' : '+';
  const amount = dollars.format(Math.abs(price.amount));
  const percent = Math.abs(price.percent).toFixed(1);
  return `${sign}${amount} (${sign}${percent}%)`;
}

const lastStatusNames: Record<string, string> = {
  New: 'new',
  Pc: 'price changed',
  Ext: 'extended',
  Sc: 'sold conditionally',
  Sce: 'sold conditionally (escape clause)',
  Lc: 'leased conditionally',
  Sld: 'sold',
  Lsd: 'leased',
  Ter: 'terminated',
  Exp: 'expired',
  Sus: 'suspended',
  Dft: 'deal fell through',
};

/** Describes a Repliers `lastStatus` code in words, such as "sold" for `Sld`. Unknown codes are shown as they are. */
export function describeLastStatus(code: string | null | undefined): string {
  if (!code) return 'unknown';
  return lastStatusNames[code] ?? code;
}

export function personName(person: { fname: string | null; lname: string | null } | null): string {
  if (!person) return 'unknown';
  const name = [person.fname, person.lname].filter((part) => part && part.trim()).join(' ').trim();
  return name || 'unnamed';
}

/** A short label for the listing a delivery is about, for logs and outbox summaries. */
export function listingLabel(delivery: Delivery): string {
  if (!delivery.listing) return delivery.favorite ? `MLS ${delivery.favorite.mlsNumber}` : 'no listing';
  return `${delivery.listing.address} (MLS ${delivery.listing.mlsNumber})`;
}
