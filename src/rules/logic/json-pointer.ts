/**
 * Appends one reference token to an RFC 6901 JSON pointer. The token is escaped as the
 * RFC requires: "~" becomes "~0" and "/" becomes "~1".
 */
export function appendPointer(pointer: string, token: string | number): string {
  const escaped = String(token).replaceAll('~', '~0').replaceAll('/', '~1');
  return `${pointer}/${escaped}`;
}
