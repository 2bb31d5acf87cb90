/**
 * Escaping for Slack mrkdwn. Text from Repliers (addresses, names, favorite comments) is untrusted, and Slack reads
 * `&`, `<` and `>` as control characters. Left as they are, `<!channel>` notifies a whole channel and
 * `<http://evil|Open listing>` shows one link while opening another.
 */

/**
 * Escapes untrusted text for a mrkdwn field so that it shows as typed.
 * `&`, `<` and `>` become the entities Slack expects. A zero-width joiner after `@` in `@channel`, `@here` and
 * `@everyone` keeps Slack from reading them as mentions, whatever the message's `parse` and `link_names` settings.
 */
export function escapeMrkdwn(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/@(?=(channel|here|everyone))/gi, '@\u200D');
}

/** Escapes untrusted text that must stay on one line, such as a name, so it cannot start a fake line of its own. */
export function escapeMrkdwnLine(text: string): string {
  return escapeMrkdwn(text.replace(/\s+/g, ' ').trim());
}

/** Returns true when the text parses as an absolute http or https URL. */
export function isHttpUrl(url: string | null | undefined): url is string {
  if (!url) return false;
  try {
    const { protocol } = new URL(url);
    return protocol === 'https:' || protocol === 'http:';
  } catch {
    return false;
  }
}

/**
 * Returns the URL in the form Slack's `<url|label>` link syntax accepts, or null when it is not an http(s) URL.
 * The URL parser percent-encodes `<`, `>` and spaces. `|` would end the URL early, so it is percent-encoded too,
 * and `&` becomes `&amp;` as in any other mrkdwn text.
 */
export function mrkdwnLinkUrl(url: string | null): string | null {
  if (!isHttpUrl(url)) return null;
  return new URL(url).href.replace(/\|/g, '%7C').replace(/&/g, '&amp;').replace(/</g, '%3C').replace(/>/g, '%3E');
}

/** Builds a mrkdwn link with an escaped label, or the escaped label alone when the URL is unusable. */
export function mrkdwnLink(url: string | null, label: string): string {
  const href = mrkdwnLinkUrl(url);
  const text = escapeMrkdwnLine(label);
  return href ? `<${href}|${text}>` : text;
}
