/** Finding the hook secret among the headers that may carry it (HOOK_SECRET_HEADER lists them). */
import type { IncomingHttpHeaders } from 'node:http';

/** A secret header as received: Node joins a custom header sent twice into one value separated by ", ". */
export interface SecretHeader {
  header: string;
  value: string | string[];
}

/** Returns the first of `names` (lower-case) present in `headers`, or null when none is. */
export function findSecretHeader(headers: IncomingHttpHeaders, names: readonly string[]): SecretHeader | null {
  for (const header of names) {
    const value = headers[header];
    if (value !== undefined) return { header, value };
  }
  return null;
}
