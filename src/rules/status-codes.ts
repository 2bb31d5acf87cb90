/**
 * The listing status codes Repliers documents. Rules compare them as exact, case-sensitive strings, so a code
 * outside these lists (such as "Sold" for "Sld") would never match; the rule loader rejects such literals.
 */

/** `status`: available or unavailable. */
export const listingStatuses: readonly string[] = ['A', 'U'];

/**
 * `lastStatus`: New, price change, extended, sold conditionally (two codes), leased conditionally, sold, leased,
 * terminated, expired, suspended and deal fell through.
 */
export const listingLastStatuses: readonly string[] = ['New', 'Pc', 'Ext', 'Sc', 'Sce', 'Lc', 'Sld', 'Lsd', 'Ter', 'Exp', 'Sus', 'Dft'];

/** The two listing fields whose values are status codes. */
export type StatusField = 'status' | 'lastStatus';

export function codesOf(field: StatusField): readonly string[] {
  return field === 'status' ? listingStatuses : listingLastStatuses;
}

/**
 * Returns the status field that a rule-data path holds codes of, or null for any other path. The paths are
 * `listing.<field>`, `previous.<field>`, `change.<field>.from` and `change.<field>.to`.
 */
export function statusFieldOfPath(path: string): StatusField | null {
  const match = /^(?:listing|previous|change)\.(status|lastStatus)(?:\.(from|to))?$/.exec(path);
  if (!match) return null;
  const [, field, side] = match;
  const isChange = path.startsWith('change.');
  // `change.status` is a transition object, and `listing.status.to` is not a path rules can meet.
  if (isChange !== (side !== undefined)) return null;
  return field as StatusField;
}
