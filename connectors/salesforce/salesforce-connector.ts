/**
 * The Salesforce connector: logs each delivery as a Task (or a Note) on the Contact or Lead that matches the client,
 * owned by the Salesforce User that matches the agent. Without credentials it writes each would-be request to the
 * outbox instead.
 *
 * The client is matched first by `client.externalId` when that is a Contact (003…) or Lead (00Q…) record Id, then
 * by email, Contacts before Leads.
 *
 * All calls go through `Connection.request` with jsforce's own retries turned off, because the hub's queue retries
 * temporary failures. By default jsforce 3.10 retries a failed GET up to 5 times, waiting about 15 s in all.
 */
import { ConnectorError, DeliverySkipped, type Connector, type Delivery, type Preview, type SendReceipt } from '../connector.js';
import { personName } from '../format.js';
import { outboxFolderForDisplay, writeOutboxFile } from '../outbox.js';
import type { Settings } from '../../src/config/settings.js';
import type { ClientRecord } from '../../src/mirror/records.js';
import { toSalesforceConnectorError } from './salesforce-errors.js';
import { chooseAuth, defaultLoginUrl, SalesforceSession } from './salesforce-session.js';
import { fieldLimits, renderSalesforceActivity, salesforceTemplates, truncate, type SalesforceActivity } from './salesforce-templates.js';
import { activeUserByEmailQuery, personByEmailQuery, personByIdQuery, personTypeOfId, recentActivityQuery } from './soql.js';

/** The Salesforce settings of the hub, plus the outbox folder used when they are incomplete. */
export type SalesforceSettings = Settings['salesforce'] & { outboxDir: string };

export interface ConnectorLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

const connectorName = 'salesforce';

/** Maximum time in ms for one REST API call. jsforce's default is 30 minutes. */
const requestTimeoutMs = 30_000;

/** Options for `Connection.request`: no retries inside jsforce, and a timeout. */
const requestOptions = { retry: { maxRetries: 0, methods: [] }, timeout: requestTimeoutMs };

const silentLogger: ConnectorLogger = { info() {}, warn() {} };

type PersonType = 'Contact' | 'Lead';

interface PersonMatch {
  type: PersonType;
  id: string;
}

interface QueryResult {
  totalSize: number;
  records: Array<{ Id: string; Description?: string | null; Body?: string | null }>;
}

/** How far before the unfinished attempt's start the search for its record reaches, in ms, for clock differences. */
const searchMarginMs = 5 * 60_000;

interface SaveResult {
  id: string;
  success: boolean;
}

/** Lead field lengths from the Salesforce object reference, so long names do not fail with STRING_TOO_LONG. */
const leadLimits = { firstName: 40, lastName: 80, company: 255 } as const;

export function createSalesforceConnector(settings: SalesforceSettings, logger: ConnectorLogger = silentLogger): Connector {
  const { auth, missing } = chooseAuth(settings);
  if (!auth) {
    if (missing.length > 0) {
      logger.warn({ missing }, 'Salesforce settings are incomplete, so records go to the outbox');
    }
    return createOutboxConnector(settings, missing, logger);
  }

  const loginUrl = settings.loginUrl ?? defaultLoginUrl;
  const session = new SalesforceSession(auth, { loginUrl, instanceUrl: settings.instanceUrl, apiVersion: settings.apiVersion }, logger);
  const connection = session.connection;

  function convert(error: unknown, action: string): ConnectorError {
    return toSalesforceConnectorError(error, { action, flow: session.flow, lastTokenError: session.lastTokenError });
  }

  /** Runs one REST API call and converts whatever it throws into a ConnectorError that names the step. */
  async function step<T>(action: string, run: () => Promise<T>): Promise<T> {
    try {
      const result = await run();
      session.recordTokenAccepted();
      return result;
    } catch (error) {
      if (isAnsweredWithToken(error)) session.recordTokenAccepted();
      throw convert(error, action);
    }
  }

  async function queryFirstId(action: string, soql: string): Promise<string | null> {
    const result = await step(action, () =>
      connection.request<QueryResult>({ method: 'GET', url: `/query?q=${encodeURIComponent(soql)}` }, requestOptions),
    );
    return result.records[0]?.Id ?? null;
  }

  // NOTE: Salesforce has no idempotency key for record creation. The description ends with the delivery key, and after
  // an attempt that ended without an outcome, findSent looks for a record carrying the key before creating another.
  // A plain retry of a create that timed out after Salesforce saved it still creates a second record.
  async function create(type: string, record: Record<string, string>): Promise<string> {
    const result = await step(`creating the ${type}`, () =>
      connection.request<SaveResult>(
        { method: 'POST', url: `/sobjects/${type}`, body: JSON.stringify(record), headers: { 'content-type': 'application/json' } },
        requestOptions,
      ),
    );
    if (!result.id) {
      throw new ConnectorError(connectorName, 'temporary', 'SALESFORCE_UNEXPECTED_RESPONSE', `Salesforce created the ${type} but returned no Id.`);
    }
    return result.id;
  }

  async function findPerson(client: ClientRecord): Promise<PersonMatch | null> {
    const idType = personTypeOfId(client.externalId);
    if (idType && client.externalId) {
      const id = await queryFirstId(`looking up the client's ${idType} by Id`, personByIdQuery(idType, client.externalId));
      if (id) return { type: idType, id };
    }

    const email = client.email?.trim();
    if (!email) return null;
    for (const type of ['Contact', 'Lead'] as const) {
      const id = await queryFirstId(`looking up the client's ${type} by email`, personByEmailQuery(type, email));
      if (id) return { type, id };
    }
    return null;
  }

  async function findOwner(delivery: Delivery): Promise<string | null> {
    const email = delivery.agent?.email?.trim();
    if (!email) return null;

    const userId = await queryFirstId("looking up the agent's User", activeUserByEmailQuery(email));
    if (!userId) {
      logger.info({ deliveryKey: delivery.key, agentId: delivery.agent?.agentId }, "No active Salesforce User has the agent's email, so the record gets the default owner");
    }
    return userId;
  }

  async function createLead(client: ClientRecord, delivery: Delivery, ownerId: string | null): Promise<PersonMatch> {
    const id = await create('Lead', leadFields(client, delivery, ownerId));
    logger.info({ deliveryKey: delivery.key, clientId: client.clientId, leadId: id }, 'Created a Salesforce Lead for a client with no match');
    return { type: 'Lead', id };
  }

  return {
    name: connectorName,
    mode: 'live',
    templates: salesforceTemplates,

    describe() {
      const flow = auth.flow === 'refresh-token' ? 'the refresh token in SALESFORCE_REFRESH_TOKEN' : 'the username-password flow';
      const onNoMatch = settings.onNoMatch === 'create-lead' ? 'a Lead is created' : 'the delivery is skipped';
      return `Salesforce: creating ${recordName(settings)}s through ${loginUrl} with ${flow}; when no Contact or Lead matches the client, ${onNoMatch}.`;
    },

    preview: (delivery) => renderPreview(delivery, settings),

    async send(delivery: Delivery): Promise<SendReceipt> {
      const client = requireClient(delivery);
      const activity = renderSalesforceActivity(delivery);

      try {
        await session.ensureToken();
      } catch (error) {
        throw convert(error, 'getting an access token');
      }

      let person = await findPerson(client);
      if (!person && settings.onNoMatch === 'skip') throw noMatch(client);

      const ownerId = settings.recordType === 'task' || !person ? await findOwner(delivery) : null;
      if (!person) person = await createLead(client, delivery, ownerId);

      const id = await create(recordName(settings), recordFields(settings, activity, person.id, ownerId));
      return { id, outbox: false };
    },

    async findSent(delivery: Delivery, since: Date): Promise<SendReceipt | null> {
      const client = requireClient(delivery);
      try {
        await session.ensureToken();
      } catch (error) {
        throw convert(error, 'getting an access token');
      }

      const person = await findPerson(client);
      if (!person) return null;
      const type = recordName(settings);
      const soql = recentActivityQuery(type, person.id, new Date(since.getTime() - searchMarginMs));
      const result = await step(`looking for a ${type} of an earlier attempt`, () =>
        connection.request<QueryResult>({ method: 'GET', url: `/query?q=${encodeURIComponent(soql)}` }, requestOptions),
      );
      const marker = deliveryMarker(delivery);
      const found = result.records.find((record) => (record.Description ?? record.Body ?? '').includes(marker));
      return found ? { id: found.Id, outbox: false } : null;
    },

    async close() {
      // A jsforce Connection has no method that releases its HTTP sockets, so there is nothing to call here.
    },
  };
}

/** Returns the text that every record's description contains, by which findSent recognises the delivery's record. */
function deliveryMarker(delivery: Delivery): string {
  return `delivery ${delivery.key}.`;
}

function createOutboxConnector(settings: SalesforceSettings, missing: string[], logger: ConnectorLogger): Connector {
  const folder = outboxFolderForDisplay(settings.outboxDir, connectorName);
  const incomplete = missing.length > 0 ? ` Missing now: ${missing.join(', ')}.` : '';

  return {
    name: connectorName,
    mode: 'outbox',
    templates: salesforceTemplates,

    describe() {
      return (
        `Salesforce: not configured, so records are written as JSON files to ${folder}. To create them in Salesforce, set ` +
        'SALESFORCE_CLIENT_ID, SALESFORCE_CLIENT_SECRET and SALESFORCE_REFRESH_TOKEN (or SALESFORCE_USERNAME and SALESFORCE_PASSWORD ' +
        `instead of the refresh token), plus SALESFORCE_LOGIN_URL for a sandbox or My Domain login.${incomplete}`
      );
    },

    preview: (delivery) => renderPreview(delivery, settings),

    async send(delivery: Delivery): Promise<SendReceipt> {
      const client = requireClient(delivery);
      const activity = renderSalesforceActivity(delivery);
      const record = {
        connector: connectorName,
        deliveryKey: delivery.key,
        target: targetLabel(client, settings),
        requests: outboxRequests(settings, client, delivery, activity),
      };

      const file = await writeOutboxFile(settings.outboxDir, connectorName, delivery.key, 'json', `${JSON.stringify(record, null, 2)}\n`);
      logger.info({ deliveryKey: delivery.key, file }, 'Salesforce record written to the outbox');
      return { id: file, outbox: true };
    },

    async close() {},
  };
}

/** Returns true for a REST API error other than a rejected session, which shows that the access token was accepted. */
function isAnsweredWithToken(error: unknown): boolean {
  const errorCode = (error as { errorCode?: unknown } | null)?.errorCode;
  return typeof errorCode === 'string' && errorCode !== 'INVALID_SESSION_ID' && errorCode !== 'Error';
}

function renderPreview(delivery: Delivery, settings: SalesforceSettings): Preview {
  const client = requireClient(delivery);
  const activity = renderSalesforceActivity(delivery);
  return { connector: connectorName, target: targetLabel(client, settings), subject: activity.subject, text: activity.description };
}

/** Returns the client the record is about. Records hang on a client's Contact or Lead, so other deliveries are skipped. */
function requireClient(delivery: Delivery): ClientRecord {
  if (delivery.recipient.kind === 'channel') {
    throw new DeliverySkipped(`Salesforce has no channels: rule ${delivery.ruleId} sends to channel ${delivery.recipient.channel}.`);
  }
  if (!delivery.client) {
    throw new DeliverySkipped(`Salesforce records are attached to a client, and delivery ${delivery.key} concerns no single client.`);
  }
  if (!delivery.client.email?.trim() && !personTypeOfId(delivery.client.externalId)) {
    throw new DeliverySkipped(
      `Client ${delivery.client.clientId} has neither an email nor a Salesforce Contact or Lead Id as external id, so no Salesforce record can match.`,
    );
  }
  return delivery.client;
}

function noMatch(client: ClientRecord): DeliverySkipped {
  return new DeliverySkipped(
    `No Salesforce Contact or Lead matches client ${personName(client)} (id ${client.clientId}) by email or external id. ` +
      'Set SALESFORCE_ON_NO_MATCH=create-lead to create a Lead for such clients.',
  );
}

/** Builds the Lead for a client with no match. Company is required, and the agent's brokerage is the best guess. */
function leadFields(client: ClientRecord, delivery: Delivery, ownerId: string | null): Record<string, string> {
  const lead: Record<string, string> = {
    LastName: truncate(client.lname?.trim() || 'Unknown', leadLimits.lastName),
    Company: truncate(delivery.agent?.brokerage?.trim() || 'Unknown', leadLimits.company),
  };
  const firstName = client.fname?.trim();
  if (firstName) lead.FirstName = truncate(firstName, leadLimits.firstName);
  const email = client.email?.trim();
  if (email) lead.Email = email;
  if (ownerId) lead.OwnerId = ownerId;
  return lead;
}

function recordName(settings: SalesforceSettings): 'Task' | 'Note' {
  return settings.recordType === 'note' ? 'Note' : 'Task';
}

function recordFields(settings: SalesforceSettings, activity: SalesforceActivity, personId: string, ownerId: string | null): Record<string, string> {
  if (settings.recordType === 'note') {
    return {
      ParentId: personId,
      Title: truncate(activity.subject, fieldLimits.noteTitle),
      Body: truncate(activity.description, fieldLimits.longText),
    };
  }

  const task: Record<string, string> = {
    Subject: truncate(activity.subject, fieldLimits.taskSubject),
    Description: truncate(activity.description, fieldLimits.longText),
    WhoId: personId,
    Status: 'Not Started',
    Priority: 'Normal',
  };
  if (ownerId) task.OwnerId = ownerId;
  return task;
}

function targetLabel(client: ClientRecord, settings: SalesforceSettings): string {
  return `${recordName(settings)} on the Salesforce Contact or Lead of client ${personName(client)} (id ${client.clientId})`;
}

/** Lists the REST calls a live send would make. Ids known only after a call are written as placeholders. */
function outboxRequests(settings: SalesforceSettings, client: ClientRecord, delivery: Delivery, activity: SalesforceActivity): object[] {
  const base = `/services/data/v${settings.apiVersion}`;
  const query = (soql: string) => ({ method: 'GET', path: `${base}/query`, soql });
  const requests: object[] = [];

  const idType = personTypeOfId(client.externalId);
  if (idType && client.externalId) requests.push(query(personByIdQuery(idType, client.externalId)));
  const email = client.email?.trim();
  if (email) requests.push(query(personByEmailQuery('Contact', email)), query(personByEmailQuery('Lead', email)));

  const agentEmail = delivery.agent?.email?.trim();
  const ownerId = agentEmail ? '<Id of the agent User, when one matches>' : null;
  if (agentEmail && (settings.recordType === 'task' || settings.onNoMatch === 'create-lead')) {
    requests.push(query(activeUserByEmailQuery(agentEmail)));
  }

  if (settings.onNoMatch === 'create-lead') {
    requests.push({ method: 'POST', path: `${base}/sobjects/Lead`, when: 'no Contact or Lead matches', body: leadFields(client, delivery, ownerId) });
  }

  const personId = '<Id of the matching Contact or Lead>';
  requests.push({
    method: 'POST',
    path: `${base}/sobjects/${recordName(settings)}`,
    body: recordFields(settings, activity, personId, settings.recordType === 'task' ? ownerId : null),
  });
  return requests;
}
