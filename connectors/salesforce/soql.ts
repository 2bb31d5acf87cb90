/**
 * The SOQL queries the Salesforce connector sends, with string literals escaped here.
 *
 * jsforce's query builder (3.10) escapes `'` but not `\`, so a value ending in a backslash would close the literal
 * early and let the rest of the value act as SOQL. These builders escape every character that SOQL reserves inside a
 * quoted string instead.
 */

/** Escape sequences that SOQL accepts inside a quoted string. */
const soqlEscapes: Record<string, string> = {
  '\\': '\\\\',
  "'": "\\'",
  '"': '\\"',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\b': '\\b',
  '\f': '\\f',
};

/** Returns the value as a quoted SOQL string literal. Control characters without a short escape become `\uXXXX`. */
export function soqlString(value: string): string {
  const escaped = value.replace(/[\\'"\u0000-\u001f]/g, (character) => {
    return soqlEscapes[character] ?? `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
  return `'${escaped}'`;
}

/** Matches a 15- or 18-character Salesforce record Id. */
const recordIdPattern = /^[a-zA-Z0-9]{15}(?:[a-zA-Z0-9]{3})?$/;

/**
 * Returns the object type of a Contact (`003…`) or Lead (`00Q…`) record Id, or null for anything else.
 * A Repliers client's `externalId` is used for the lookup only when it is such an Id.
 */
export function personTypeOfId(id: string | null | undefined): 'Contact' | 'Lead' | null {
  if (!id || !recordIdPattern.test(id)) return null;
  if (id.startsWith('003')) return 'Contact';
  if (id.startsWith('00Q')) return 'Lead';
  return null;
}

/** A converted Lead can no longer take activities, so Lead lookups leave converted ones out. */
const leadFilter = ' AND IsConverted = false';

export function personByIdQuery(type: 'Contact' | 'Lead', id: string): string {
  return `SELECT Id FROM ${type} WHERE Id = ${soqlString(id)}${type === 'Lead' ? leadFilter : ''} LIMIT 1`;
}

/** Finds the most recently changed Contact or Lead with the email. Salesforce compares emails without case. */
export function personByEmailQuery(type: 'Contact' | 'Lead', email: string): string {
  const filter = type === 'Lead' ? leadFilter : '';
  return `SELECT Id FROM ${type} WHERE Email = ${soqlString(email)}${filter} ORDER BY LastModifiedDate DESC LIMIT 1`;
}

export function activeUserByEmailQuery(email: string): string {
  return `SELECT Id FROM User WHERE Email = ${soqlString(email)} AND IsActive = true ORDER BY LastModifiedDate DESC LIMIT 1`;
}

/** Formats a time as a SOQL dateTime literal, which has no quotes and no fraction of a second. */
export function soqlDateTime(time: Date): string {
  return time.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * Finds the Tasks (by WhoId) or Notes (by ParentId) created on a Contact or Lead since a time, newest first, with the
 * text field that ends with the delivery key. That field is a long text area, which SOQL cannot filter on, so the
 * caller compares the text.
 */
export function recentActivityQuery(type: 'Task' | 'Note', personId: string, since: Date): string {
  const [text, parent] = type === 'Task' ? ['Description', 'WhoId'] : ['Body', 'ParentId'];
  return `SELECT Id, ${text} FROM ${type} WHERE ${parent} = ${soqlString(personId)} AND CreatedDate >= ${soqlDateTime(since)} ORDER BY CreatedDate DESC LIMIT 50`;
}
