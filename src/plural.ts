/** English counts for messages: "1 problem", "3 problems", never "problem(s)". */

/** Returns `singular` for a count of one and `plural` otherwise. */
export function noun(count: number, singular: string, plural = `${singular}s`): string {
  return count === 1 ? singular : plural;
}

/** Returns the count followed by the noun in the matching number, such as "1 delivery" or "2 deliveries". */
export function countOf(count: number, singular: string, plural = `${singular}s`): string {
  return `${count} ${noun(count, singular, plural)}`;
}
