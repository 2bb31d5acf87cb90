/**
 * A local stand-in for the part of Salesforce the Salesforce connector uses: the OAuth 2.0 token endpoint (refresh
 * token and password grants), SOQL queries and record creation over the REST API. It listens on 127.0.0.1, returns
 * errors in Salesforce's shapes and records every request so tests can check what arrived.
 *
 * Queries are parsed only in the shapes the connector sends; any other SOQL gets MALFORMED_QUERY, so a change in the
 * connector's queries fails the tests instead of passing unnoticed.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parse as parseQueryString } from 'node:querystring';

export interface PersonRecord {
  Id: string;
  Email: string;
  /** Leads only. */
  IsConverted?: boolean;
  LastModifiedDate?: string;
}

export interface UserRecord {
  Id: string;
  Email: string;
  IsActive: boolean;
}

export interface CreatedRecord {
  type: string;
  id: string;
  fields: Record<string, unknown>;
  /** ISO time of creation, as Salesforce's CreatedDate. */
  createdDate: string;
}

export interface ApiRequest {
  method: string;
  path: string;
  authorization: string | null;
}

export interface ApiFailure {
  status: number;
  /** Sent as JSON, or as it is when `contentType` is given. */
  body: unknown;
  contentType?: string;
}

export interface SalesforceStandInState {
  clientId: string;
  clientSecret: string;
  refreshToken: string;
  username: string;
  password: string;
  apiVersion: string;
  contacts: PersonRecord[];
  leads: PersonRecord[];
  users: UserRecord[];
  /** Every token request with its form fields. */
  tokenRequests: Array<Record<string, string>>;
  /** Every REST API request, token endpoint excluded. */
  requests: ApiRequest[];
  /** Every SOQL query received, decoded. */
  queries: string[];
  created: CreatedRecord[];
  /** Access tokens the API accepts. */
  validTokens: Set<string>;
  /** When true, refresh token grants get invalid_grant as if the grant were revoked. */
  grantRevoked: boolean;
  /** When true, tokens are issued but the API rejects every one of them with INVALID_SESSION_ID. */
  rejectAllSessions: boolean;
  /** When true, every API request gets 403 REQUEST_LIMIT_EXCEEDED. */
  limitExceeded: boolean;
  /** Makes every issued token stale, as when sessions time out. */
  expireSessions(): void;
  /** Makes the next `count` API requests (to paths containing `pathPart`, when given) fail with this response. */
  failNext(count: number, failure: ApiFailure, pathPart?: string): void;
  createdOf(type: string): CreatedRecord[];
}

export interface SalesforceStandIn {
  /** Base URL, used both as the login URL and as the instance URL. */
  url: string;
  state: SalesforceStandInState;
  close(): Promise<void>;
}

export interface SalesforceStandInOptions {
  apiVersion?: string;
  contacts?: PersonRecord[];
  leads?: PersonRecord[];
  users?: UserRecord[];
}

const idPrefixes: Record<string, string> = { Contact: '003', Lead: '00Q', User: '005', Task: '00T', Note: '002' };

/** Writable fields of each object the connector creates, with the ones Salesforce requires. */
const objectFields: Record<string, { allowed: string[]; required: string[] }> = {
  Task: { allowed: ['Subject', 'Description', 'WhoId', 'OwnerId', 'Status', 'Priority'], required: ['Status', 'Priority'] },
  Note: { allowed: ['ParentId', 'Title', 'Body', 'OwnerId'], required: ['ParentId', 'Title'] },
  Lead: { allowed: ['LastName', 'FirstName', 'Email', 'Company', 'OwnerId'], required: ['LastName', 'Company'] },
};

const maxLengths: Record<string, number> = { 'Task.Subject': 255, 'Note.Title': 80, 'Lead.LastName': 80, 'Lead.FirstName': 40 };

const sessionExpired = [{ message: 'Session expired or invalid', errorCode: 'INVALID_SESSION_ID' }];

/**
 * The query shapes the connector sends: by Id or Email, a filter on leads or users, an optional ORDER BY, LIMIT 1.
 * The literal allows SOQL escapes only, so an unescaped quote ends it and the rest fails to match.
 */
const queryPattern =
  /^SELECT Id FROM (Contact|Lead|User) WHERE (Id|Email) = '((?:[^'\\]|\\.)*)'( AND IsConverted = false| AND IsActive = true)?( ORDER BY LastModifiedDate DESC)? LIMIT 1$/;

/** The query findSent sends: recent Tasks of a person with their Description, or Notes with their Body. */
const activityPattern =
  /^SELECT Id, (Description|Body) FROM (Task|Note) WHERE (WhoId|ParentId) = '((?:[^'\\]|\\.)*)' AND CreatedDate >= (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ) ORDER BY CreatedDate DESC LIMIT 50$/;

interface PendingFailure {
  remaining: number;
  failure: ApiFailure;
  pathPart: string | undefined;
}

export async function startSalesforceApi(options: SalesforceStandInOptions = {}): Promise<SalesforceStandIn> {
  const pending: PendingFailure[] = [];
  let idCount = 0;
  let tokenCount = 0;
  let baseUrl = '';

  const state: SalesforceStandInState = {
    clientId: 'hub-consumer-key',
    clientSecret: 'hub-consumer-secret',
    refreshToken: '5Aep861-test-refresh-token',
    username: 'integration@hub.example.com',
    password: 'correct-horse-battery-SECURITYTOKEN',
    apiVersion: options.apiVersion ?? '61.0',
    contacts: options.contacts ?? [],
    leads: options.leads ?? [],
    users: options.users ?? [],
    tokenRequests: [],
    requests: [],
    queries: [],
    created: [],
    validTokens: new Set(),
    grantRevoked: false,
    rejectAllSessions: false,
    limitExceeded: false,
    expireSessions() {
      state.validTokens.clear();
    },
    failNext(count, failure, pathPart) {
      pending.push({ remaining: count, failure, pathPart });
    },
    createdOf(type) {
      return state.created.filter((record) => record.type === type);
    },
  };

  function newId(type: string): string {
    idCount += 1;
    return `${idPrefixes[type] ?? '001'}5g00000${String(idCount).padStart(5, '0')}AAA`;
  }

  function handleToken(form: Record<string, string>, response: ServerResponse): void {
    state.tokenRequests.push(form);

    if (form.client_id !== state.clientId) {
      send(response, 400, { error: 'invalid_client_id', error_description: 'client identifier invalid' });
      return;
    }
    if (form.client_secret !== state.clientSecret) {
      send(response, 400, { error: 'invalid_client', error_description: 'invalid client credentials' });
      return;
    }

    if (form.grant_type === 'refresh_token') {
      if (state.grantRevoked || form.refresh_token !== state.refreshToken) {
        send(response, 400, { error: 'invalid_grant', error_description: 'expired access/refresh token' });
        return;
      }
    } else if (form.grant_type === 'password') {
      if (form.username !== state.username || form.password !== state.password) {
        send(response, 400, { error: 'invalid_grant', error_description: 'authentication failure' });
        return;
      }
    } else {
      send(response, 400, { error: 'unsupported_grant_type', error_description: 'grant type not supported' });
      return;
    }

    tokenCount += 1;
    const accessToken = `00D5g000004TEST!AQ0AQ.token-${tokenCount}`;
    if (!state.rejectAllSessions) state.validTokens.add(accessToken);
    send(response, 200, {
      access_token: accessToken,
      instance_url: baseUrl,
      id: `${baseUrl}/id/00D5g000004TESTEAA/0055g00000INTEGRAAA`,
      token_type: 'Bearer',
      issued_at: String(Date.now()),
      signature: 'c3RhbmQtaW4tc2lnbmF0dXJl',
      scope: 'api refresh_token',
    });
  }

  function handleActivityQuery(match: RegExpExecArray, response: ServerResponse): void {
    const [, textField, type, parentField, literal, since] = match;
    const parentId = unescapeSoql(literal!);
    const fitsType = (type === 'Task') === (textField === 'Description') && (type === 'Task') === (parentField === 'WhoId');
    if (parentId === null || !fitsType) {
      send(response, 400, [{ message: `unexpected query: ${match[0]}`, errorCode: 'MALFORMED_QUERY' }]);
      return;
    }
    const found = state.created
      .filter((record) => record.type === type && record.fields[parentField!] === parentId && record.createdDate >= since!)
      .sort((a, b) => b.createdDate.localeCompare(a.createdDate))
      .slice(0, 50);
    send(response, 200, {
      totalSize: found.length,
      done: true,
      records: found.map((record) => ({
        attributes: { type, url: `/services/data/v${state.apiVersion}/sobjects/${type}/${record.id}` },
        Id: record.id,
        [textField!]: record.fields[textField!] ?? null,
      })),
    });
  }

  function handleQuery(soql: string, response: ServerResponse): void {
    state.queries.push(soql);

    const activity = activityPattern.exec(soql);
    if (activity) {
      handleActivityQuery(activity, response);
      return;
    }

    const match = queryPattern.exec(soql);
    const literal = match ? unescapeSoql(match[3]!) : null;
    if (!match || literal === null || !filterFits(match[1]!, match[4])) {
      send(response, 400, [{ message: `unexpected query: ${soql}`, errorCode: 'MALFORMED_QUERY' }]);
      return;
    }

    const [, type, field] = match;
    let candidates: Array<PersonRecord | UserRecord> = state.users;
    if (type === 'Contact') candidates = state.contacts;
    if (type === 'Lead') candidates = state.leads;
    const found = candidates
      .filter((record) => (field === 'Id' ? record.Id === literal : record.Email.toLowerCase() === literal.toLowerCase()))
      .filter((record) => (type === 'Lead' ? !(record as PersonRecord).IsConverted : true))
      .filter((record) => (type === 'User' ? (record as UserRecord).IsActive : true))
      .sort((a, b) => String((b as PersonRecord).LastModifiedDate ?? '').localeCompare(String((a as PersonRecord).LastModifiedDate ?? '')))
      .slice(0, 1);

    send(response, 200, {
      totalSize: found.length,
      done: true,
      records: found.map((record) => ({
        attributes: { type, url: `/services/data/v${state.apiVersion}/sobjects/${type}/${record.Id}` },
        Id: record.Id,
      })),
    });
  }

  function handleCreate(type: string, fields: Record<string, unknown>, response: ServerResponse): void {
    const shape = objectFields[type];
    if (!shape) {
      send(response, 404, [{ message: `The requested resource does not exist: sobject type ${type}`, errorCode: 'NOT_FOUND' }]);
      return;
    }

    for (const field of Object.keys(fields)) {
      if (!shape.allowed.includes(field)) {
        send(response, 400, [{ message: `No such column '${field}' on sobject of type ${type}`, errorCode: 'INVALID_FIELD' }]);
        return;
      }
    }
    const missing = shape.required.filter((field) => fields[field] === undefined || fields[field] === '');
    if (missing.length > 0) {
      send(response, 400, [{ message: `Required fields are missing: [${missing.join(', ')}]`, errorCode: 'REQUIRED_FIELD_MISSING', fields: missing }]);
      return;
    }
    for (const [field, value] of Object.entries(fields)) {
      const limit = maxLengths[`${type}.${field}`];
      if (limit !== undefined && String(value).length > limit) {
        send(response, 400, [{ message: `${field}: data value too large`, errorCode: 'STRING_TOO_LONG', fields: [field] }]);
        return;
      }
    }

    const reference = invalidReference(fields);
    if (reference) {
      send(response, 400, [{ message: `${reference}: id value of incorrect type`, errorCode: 'INVALID_CROSS_REFERENCE_KEY', fields: [reference] }]);
      return;
    }

    const id = newId(type);
    state.created.push({ type, id, fields, createdDate: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z') });
    if (type === 'Lead') state.leads.push({ Id: id, Email: String(fields.Email ?? ''), IsConverted: false });
    send(response, 201, { id, success: true, errors: [] });
  }

  /** Returns the first reference field that names no known record of the right kind. */
  function invalidReference(fields: Record<string, unknown>): string | null {
    const people = [...state.contacts, ...state.leads].map((record) => record.Id);
    if (fields.WhoId !== undefined && !people.includes(String(fields.WhoId))) return 'WhoId';
    if (fields.ParentId !== undefined && !people.includes(String(fields.ParentId))) return 'ParentId';
    if (fields.OwnerId !== undefined && !state.users.some((user) => user.Id === fields.OwnerId)) return 'OwnerId';
    return null;
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const body = await readBody(request);

    if (request.method === 'POST' && url.pathname === '/services/oauth2/token') {
      handleToken(parseForm(body), response);
      return;
    }

    const authorization = request.headers.authorization ?? null;
    state.requests.push({ method: request.method ?? '', path: `${url.pathname}${url.search}`, authorization });

    const token = authorization?.replace(/^Bearer /, '') ?? '';
    if (!state.validTokens.has(token)) {
      send(response, 401, sessionExpired);
      return;
    }
    if (state.limitExceeded) {
      send(response, 403, [{ message: 'TotalRequests Limit exceeded.', errorCode: 'REQUEST_LIMIT_EXCEEDED' }]);
      return;
    }
    const failure = takeFailure(pending, url.pathname);
    if (failure?.contentType) {
      response.writeHead(failure.status, { 'content-type': failure.contentType });
      response.end(String(failure.body));
      return;
    }
    if (failure) {
      send(response, failure.status, failure.body);
      return;
    }

    const base = `/services/data/v${state.apiVersion}`;
    if (request.method === 'GET' && url.pathname === `${base}/query`) {
      handleQuery(url.searchParams.get('q') ?? '', response);
      return;
    }
    const createMatch = new RegExp(`^${base.replace(/\./g, '\\.')}/sobjects/(\\w+)$`).exec(url.pathname);
    if (request.method === 'POST' && createMatch) {
      handleCreate(createMatch[1]!, JSON.parse(body) as Record<string, unknown>, response);
      return;
    }

    send(response, 404, [{ message: 'The requested resource does not exist', errorCode: 'NOT_FOUND' }]);
  }

  const server = createServer((request, response) => {
    void handle(request, response).catch((error: unknown) => {
      send(response, 500, [{ message: String(error), errorCode: 'UNKNOWN_EXCEPTION' }]);
    });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  baseUrl = `http://127.0.0.1:${port}`;

  return {
    url: baseUrl,
    state,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

/** Checks the filter each object needs: leads leave out converted ones, users inactive ones, contacts have none. */
function filterFits(type: string, filter: string | undefined): boolean {
  if (type === 'Lead') return filter === ' AND IsConverted = false';
  if (type === 'User') return filter === ' AND IsActive = true';
  return filter === undefined;
}

/** Decodes the escapes SOQL allows in a string literal, or returns null for one it does not allow. */
function unescapeSoql(literal: string): string | null {
  let valid = true;
  const text = literal.replace(/\\(u[0-9a-fA-F]{4}|.)/g, (_sequence, escape: string) => {
    if (escape.length === 5) return String.fromCharCode(parseInt(escape.slice(1), 16));
    const decoded: Record<string, string> = { n: '\n', r: '\r', t: '\t', b: '\b', f: '\f', '"': '"', "'": "'", '\\': '\\' };
    const character = decoded[escape.length === 1 && /[nrtbf]/i.test(escape) ? escape.toLowerCase() : escape];
    if (character === undefined) valid = false;
    return character ?? '';
  });
  return valid ? text : null;
}

function takeFailure(pending: PendingFailure[], path: string): ApiFailure | null {
  const entry = pending.find((candidate) => candidate.remaining > 0 && (!candidate.pathPart || path.includes(candidate.pathPart)));
  if (!entry) return null;
  entry.remaining -= 1;
  if (entry.remaining === 0) pending.splice(pending.indexOf(entry), 1);
  return entry.failure;
}

function parseForm(body: string): Record<string, string> {
  const form: Record<string, string> = {};
  for (const [key, value] of Object.entries(parseQueryString(body))) {
    form[key] = Array.isArray(value) ? value.join(',') : (value ?? '');
  }
  return form;
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function send(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json;charset=UTF-8' });
  response.end(JSON.stringify(body));
}
