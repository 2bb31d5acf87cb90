/** Listing views for messages, and the change a listing.updated describes. */
import type { ListingChange, ListingView } from '../../connectors/connector.js';
import { toNumber, toText } from './listing-values.js';

export interface ListingViewOptions {
  imageBaseUrl: string;
  /** `{mlsNumber}` and `{boardId}` are replaced; an empty template gives no link. */
  listingUrlTemplate: string;
}

const titleCase = (word: string): string =>
  word.length > 0 && word === word.toUpperCase() ? word.charAt(0) + word.slice(1).toLowerCase() : word;

/** Builds "62 Erin Crescent, Ottawa" from a Repliers address, skipping empty and null parts. */
export function formatAddress(address: Record<string, unknown> | null | undefined): string {
  if (!address) return 'address not given';
  const unit = toText(address.unitNumber);
  const street = [address.streetNumber, address.streetDirectionPrefix, address.streetName, address.streetSuffix, address.streetDirection]
    .map(toText)
    .filter((part): part is string => part !== null && part !== '!scrubbed!')
    .map((part) => part.split(' ').map(titleCase).join(' '))
    .join(' ');
  const city = toText(address.city);
  const line = [unit ? `${unit}-${street}` : street, city].filter((part) => part).join(', ');
  return line || 'address not given';
}

function imageUrl(base: string, image: unknown): string | null {
  const path = toText(image);
  if (!path) return null;
  if (/^https?:\/\//.test(path)) return path;
  return `${base.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`;
}

export function buildListingView(listing: Record<string, unknown>, options: ListingViewOptions): ListingView {
  const mlsNumber = String(listing.mlsNumber ?? '');
  const boardId = toText(listing.boardId);
  const address = (listing.address && typeof listing.address === 'object' ? listing.address : null) as Record<string, unknown> | null;
  const images = Array.isArray(listing.images) ? listing.images : [];
  const permissions = (listing.permissions ?? {}) as Record<string, unknown>;
  const url = options.listingUrlTemplate
    ? options.listingUrlTemplate
        .replaceAll('{mlsNumber}', encodeURIComponent(mlsNumber))
        .replaceAll('{boardId}', encodeURIComponent(boardId ?? ''))
    : null;

  return {
    mlsNumber,
    boardId,
    address: formatAddress(address),
    city: address ? toText(address.city) : null,
    listPrice: toNumber(listing.listPrice),
    soldPrice: toNumber(listing.soldPrice),
    soldDate: toText(listing.soldDate)?.slice(0, 10) ?? null,
    status: toText(listing.status),
    lastStatus: toText(listing.lastStatus),
    photoUrl: imageUrl(options.imageBaseUrl, images[0]),
    url,
    // Boards mark display permissions "Y"/"N"; a listing without them is treated as public.
    displayPublic: permissions.displayPublic !== 'N' && permissions.displayInternetEntireListing !== 'N',
  };
}

/**
 * Works out what a listing.updated changed from the listing after the change and `previous`, which holds only
 * the fields that changed. A price change needs both prices as numbers: a missing or placeholder price on
 * either side gives no price change rather than a change from or to zero.
 */
export function buildListingChange(listing: Record<string, unknown>, previous: Record<string, unknown>): ListingChange {
  let price: ListingChange['price'] = null;
  if ('listPrice' in previous) {
    const from = toNumber(previous.listPrice);
    const to = toNumber(listing.listPrice);
    if (from !== null && to !== null && from !== to) {
      const amount = to - from;
      price = { from, to, amount, percent: from === 0 ? 0 : (amount / from) * 100 };
    }
  }

  const status = 'status' in previous ? { from: toText(previous.status), to: toText(listing.status) } : null;
  const lastStatus =
    'lastStatus' in previous ? { from: toText(previous.lastStatus), to: toText(listing.lastStatus) } : null;
  return { price, status, lastStatus };
}
