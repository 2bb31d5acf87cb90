/**
 * Listing values as rules and templates use them. Boards send prices as strings ("699900.00") or numbers
 * (369000), and some values are placeholders such as "!scrubbed!": everything numeric becomes a number or null.
 */

const numericText = /^\s*-?(\d+(\.\d*)?|\.\d+)\s*$/;

/** Returns a finite number for a number or a numeric string, and null for anything else. */
export function toNumber(value: unknown): number | null {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'string' && numericText.test(value)) {
    const parsed = Number(value);
    return Number.isFinite(parsed) ? parsed : null;
  }
  return null;
}

export function toText(value: unknown): string | null {
  if (typeof value === 'string') return value.trim() === '' ? null : value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return null;
}

/** Top-level listing fields that hold numbers on some boards and numeric strings on others. */
const numericFields = ['listPrice', 'soldPrice', 'originalPrice', 'daysOnMarket', 'simpleDaysOnMarket'] as const;
/** Fields of `details` that are numbers in meaning. */
const numericDetails = ['numBathrooms', 'numBathroomsPlus', 'numBedrooms', 'numBedroomsPlus', 'numGarageSpaces', 'numParkingSpaces'] as const;

/**
 * Returns a copy of a listing (or of a `previous` object) with numeric fields as numbers or null. A field that is
 * absent stays absent, so rules can tell "not sent" from "sent as zero".
 */
export function normaliseListingFields(listing: Record<string, unknown>): Record<string, unknown> {
  const result: Record<string, unknown> = { ...listing };
  for (const field of numericFields) {
    if (field in listing) result[field] = toNumber(listing[field]);
  }

  const details = listing.details;
  if (details && typeof details === 'object' && !Array.isArray(details)) {
    const copy: Record<string, unknown> = { ...(details as Record<string, unknown>) };
    for (const field of numericDetails) {
      if (field in copy) copy[field] = toNumber(copy[field]);
    }
    result.details = copy;
  }

  const map = listing.map;
  if (map && typeof map === 'object' && !Array.isArray(map)) {
    const copy: Record<string, unknown> = { ...(map as Record<string, unknown>) };
    for (const field of ['latitude', 'longitude']) {
      if (field in copy) copy[field] = toNumber(copy[field]);
    }
    result.map = copy;
  }
  return result;
}
