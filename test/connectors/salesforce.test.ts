import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { ConnectorError, DeliverySkipped, type Connector } from '../../connectors/connector.js';
import { createSalesforceConnector, type SalesforceSettings } from '../../connectors/salesforce/salesforce-connector.js';
import { soqlString } from '../../connectors/salesforce/soql.js';
import { startSalesforceApi, type SalesforceStandIn } from '../stand-ins/salesforce-api.js';
import { describeConnectorContract } from './connector-contract.js';
import { makeDelivery } from './fixtures.js';

const adaContactId = '0035g00000ADA0001A';
const graceUserId = '0055g00000GRACE01A';

let salesforce: SalesforceStandIn;
const connectors: Connector[] = [];

beforeEach(async () => {
  salesforce = await startSalesforceApi({
    contacts: [{ Id: adaContactId, Email: 'ada.lovelace@example.com' }],
    users: [{ Id: graceUserId, Email: 'grace.hopper@example.com', IsActive: true }],
  });
});

afterEach(async () => {
  await Promise.all(connectors.splice(0).map((connector) => connector.close()));
  await salesforce.close();
});

function settingsFor(standIn: SalesforceStandIn, overrides: Partial<SalesforceSettings> = {}): SalesforceSettings {
  return {
    loginUrl: standIn.url,
    instanceUrl: null,
    clientId: standIn.state.clientId,
    clientSecret: standIn.state.clientSecret,
    refreshToken: standIn.state.refreshToken,
    username: null,
    password: null,
    recordType: 'task',
    onNoMatch: 'skip',
    outboxDir: os.tmpdir(),
    apiVersion: '61.0',
    ...overrides,
  };
}

function connect(overrides: Partial<SalesforceSettings> = {}): Connector {
  const connector = createSalesforceConnector(settingsFor(salesforce, overrides));
  connectors.push(connector);
  return connector;
}

function forSalesforce(overrides: Parameters<typeof makeDelivery>[0] = {}) {
  return makeDelivery({ action: { connector: 'salesforce', template: 'price-drop', to: 'client' }, ...overrides });
}

async function expectConnectorError(promise: Promise<unknown>, expected: { kind: 'temporary' | 'permanent'; code: string }) {
  const error = await promise.then(
    () => null,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ConnectorError);
  const connectorError = error as ConnectorError;
  expect(connectorError.connector).toBe('salesforce');
  expect(connectorError.kind).toBe(expected.kind);
  expect(connectorError.code).toBe(expected.code);
  return connectorError;
}

describe('salesforce connector, records', () => {
  it('creates a Task on the Contact owned by the agent User', async () => {
    const receipt = await connect().send(forSalesforce());

    const [task] = salesforce.state.createdOf('Task');
    expect(receipt).toEqual({ id: task!.id, outbox: false });
    expect(task!.fields).toMatchObject({
      WhoId: adaContactId,
      OwnerId: graceUserId,
      Status: 'Not Started',
      Priority: 'Normal',
      Subject: 'Price drop on favorite 62 Erin Crescent, Ottawa (MLS 1421130): -$25,000 (-3.6%)',
    });
    const description = String(task!.fields.Description);
    expect(description).toContain('Ada Lovelace');
    expect(description).toContain('Price: $699,900 → $674,900');
    expect(description).toContain('Listing page: https://homes.example.com/listings/12/1421130');
    expect(description).toContain('delivery evt-1f0c-price-drop-0-client-77');
  });

  it('sends only the expected queries', async () => {
    await connect().send(forSalesforce());

    expect(salesforce.state.queries).toEqual([
      "SELECT Id FROM Contact WHERE Email = 'ada.lovelace@example.com' ORDER BY LastModifiedDate DESC LIMIT 1",
      "SELECT Id FROM User WHERE Email = 'grace.hopper@example.com' AND IsActive = true ORDER BY LastModifiedDate DESC LIMIT 1",
    ]);
    expect(salesforce.state.tokenRequests).toHaveLength(1);
    expect(salesforce.state.tokenRequests[0]!.grant_type).toBe('refresh_token');
  });

  it('falls back to a Lead with the email', async () => {
    salesforce.state.contacts = [];
    salesforce.state.leads = [
      { Id: '00Q5g00000CONVERTED', Email: 'ada.lovelace@example.com', IsConverted: true },
      { Id: '00Q5g00000ADA0001A', Email: 'Ada.Lovelace@Example.com' },
    ];

    await connect().send(forSalesforce());

    expect(salesforce.state.createdOf('Task')[0]!.fields.WhoId).toBe('00Q5g00000ADA0001A');
    expect(salesforce.state.queries[1]).toBe(
      "SELECT Id FROM Lead WHERE Email = 'ada.lovelace@example.com' AND IsConverted = false ORDER BY LastModifiedDate DESC LIMIT 1",
    );
  });

  it('matches by a Contact Id in externalId first', async () => {
    const otherContactId = '0035g00000OTHER01A';
    salesforce.state.contacts.push({ Id: otherContactId, Email: 'ada@work.example.com' });

    await connect().send(forSalesforce({ client: { externalId: otherContactId } }));

    expect(salesforce.state.queries[0]).toBe(`SELECT Id FROM Contact WHERE Id = '${otherContactId}' LIMIT 1`);
    expect(salesforce.state.createdOf('Task')[0]!.fields.WhoId).toBe(otherContactId);
  });

  it('leaves the owner unset when no User matches the agent', async () => {
    await connect().send(forSalesforce({ agent: { email: 'grace@personal.example.org' } }));

    const task = salesforce.state.createdOf('Task')[0]!;
    expect(task.fields.OwnerId).toBeUndefined();
    expect(task.fields.WhoId).toBe(adaContactId);
  });

  it('skips a client with no match by default', async () => {
    salesforce.state.contacts = [];

    const error = await connect()
      .send(forSalesforce())
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DeliverySkipped);
    expect((error as Error).message).toContain('SALESFORCE_ON_NO_MATCH=create-lead');
    expect(salesforce.state.created).toHaveLength(0);
  });

  it('creates a Lead for a client with no match when told to', async () => {
    salesforce.state.contacts = [];

    const receipt = await connect({ onNoMatch: 'create-lead' }).send(forSalesforce());

    const [lead] = salesforce.state.createdOf('Lead');
    expect(lead!.fields).toEqual({
      LastName: 'Lovelace',
      FirstName: 'Ada',
      Email: 'ada.lovelace@example.com',
      Company: 'Rideau Realty',
      OwnerId: graceUserId,
    });
    const [task] = salesforce.state.createdOf('Task');
    expect(task!.fields.WhoId).toBe(lead!.id);
    expect(receipt.id).toBe(task!.id);
  });

  it("uses Unknown as the Lead company without a brokerage", async () => {
    salesforce.state.contacts = [];

    await connect({ onNoMatch: 'create-lead' }).send(forSalesforce({ agent: { brokerage: null } }));

    expect(salesforce.state.createdOf('Lead')[0]!.fields.Company).toBe('Unknown');
  });

  it('creates a Note in note mode', async () => {
    const delivery = forSalesforce({
      action: { connector: 'salesforce', template: 'favorite-created', to: 'client' },
      eventType: 'favorite.created',
      change: null,
    });

    const receipt = await connect({ recordType: 'note' }).send(delivery);

    const [note] = salesforce.state.createdOf('Note');
    expect(receipt.id).toBe(note!.id);
    expect(note!.fields.ParentId).toBe(adaContactId);
    expect(note!.fields.Title).toBe('Favorited 62 Erin Crescent, Ottawa (MLS 1421130)');
    expect(String(note!.fields.Body)).toContain('Client comment: Love the backyard');
    expect(salesforce.state.createdOf('Task')).toHaveLength(0);
    expect(salesforce.state.queries.some((query) => query.includes('FROM User'))).toBe(false);
  });

  it('cuts a long Note title to 80 characters', async () => {
    const address = `${'Very Long Street Name '.repeat(6)}, Ottawa`;

    await connect({ recordType: 'note' }).send(forSalesforce({ listing: { address } }));

    const title = String(salesforce.state.createdOf('Note')[0]!.fields.Title);
    expect(title).toHaveLength(80);
    expect(title.endsWith('…')).toBe(true);
  });

  it('renders listing-sold with the status in words', async () => {
    const delivery = forSalesforce({
      action: { connector: 'salesforce', template: 'listing-sold', to: 'client' },
      listing: { lastStatus: 'Sld' },
      change: { price: null, lastStatus: { from: 'Pc', to: 'Sld' } },
    });

    await connect().send(delivery);

    expect(salesforce.state.createdOf('Task')[0]!.fields.Subject).toBe('Favorite sold: 62 Erin Crescent, Ottawa (MLS 1421130)');
    expect(salesforce.state.createdOf('Task')[0]!.fields.Description).toContain('Last list price: $674,900');
  });

  it('shows the sold price when published', async () => {
    const delivery = forSalesforce({
      action: { connector: 'salesforce', template: 'listing-sold', to: 'client' },
      listing: { lastStatus: 'Sld', soldPrice: 690000, soldDate: null },
      change: { price: null, lastStatus: { from: 'Pc', to: 'Sld' } },
    });

    await connect().send(delivery);

    const description = String(salesforce.state.createdOf('Task')[0]!.fields.Description);
    expect(description).toContain('Sold price: $690,000\n');
    expect(description).toContain('Last list price: $674,900');
  });
});

describe('salesforce connector, query escaping', () => {
  it('finds a client whose email has a single quote', async () => {
    const email = "o'brien@example.com";
    salesforce.state.contacts.push({ Id: '0035g00000OBRIEN1A', Email: email });

    await connect().send(forSalesforce({ client: { email } }));

    expect(salesforce.state.queries[0]).toContain("Email = 'o\\'brien@example.com'");
    expect(salesforce.state.createdOf('Task')[0]!.fields.WhoId).toBe('0035g00000OBRIEN1A');
  });

  it('keeps a backslash and quote from ending the literal', async () => {
    const email = "x\\' OR Email != 'y";

    const error = await connect()
      .send(forSalesforce({ client: { email } }))
      .catch((caught: unknown) => caught);

    // The stand-in rejects anything but one well-formed literal with MALFORMED_QUERY, so a skip means no injection.
    expect(error).toBeInstanceOf(DeliverySkipped);
    expect(salesforce.state.queries[0]).toBe(`SELECT Id FROM Contact WHERE Email = ${soqlString(email)} ORDER BY LastModifiedDate DESC LIMIT 1`);
    expect(soqlString(email)).toBe("'x\\\\\\' OR Email != \\'y'");
  });

  it('escapes control characters', () => {
    expect(soqlString('a\nb\tc"d\u0001')).toBe("'a\\nb\\tc\\\"d\\u0001'");
  });
});

describe('salesforce connector, sessions', () => {
  it('shares one token request among concurrent first sends', async () => {
    const connector = connect();

    await Promise.all(Array.from({ length: 5 }, () => connector.send(forSalesforce())));

    expect(salesforce.state.tokenRequests).toHaveLength(1);
    expect(salesforce.state.createdOf('Task')).toHaveLength(5);
  });

  it('refreshes an expired session once for 5 concurrent sends', async () => {
    const connector = connect();
    await connector.send(forSalesforce());
    salesforce.state.expireSessions();
    const requestsBeforeExpiry = salesforce.state.requests.length;

    const receipts = await Promise.all(Array.from({ length: 5 }, () => connector.send(forSalesforce())));

    expect(salesforce.state.tokenRequests).toHaveLength(2);
    expect(salesforce.state.tokenRequests[1]!.grant_type).toBe('refresh_token');
    expect(new Set(receipts.map((receipt) => receipt.id)).size).toBe(5);
    expect(salesforce.state.createdOf('Task')).toHaveLength(6);
    const requestsAfterExpiry = salesforce.state.requests.slice(requestsBeforeExpiry);
    const staleRequests = requestsAfterExpiry.filter((request) => request.authorization?.endsWith('token-1'));
    expect(staleRequests).toHaveLength(5);
  });

  it('logs in with username and password without a refresh token', async () => {
    const connector = connect({
      refreshToken: null,
      username: salesforce.state.username,
      password: salesforce.state.password,
    });

    await connector.send(forSalesforce());
    salesforce.state.expireSessions();
    await connector.send(forSalesforce());

    expect(salesforce.state.tokenRequests.map((request) => request.grant_type)).toEqual(['password', 'password']);
    expect(salesforce.state.createdOf('Task')).toHaveLength(2);
  });

  it('reports a revoked grant as pausing the connector', async () => {
    salesforce.state.grantRevoked = true;

    const error = await expectConnectorError(connect().send(forSalesforce()), { kind: 'temporary', code: 'SALESFORCE_GRANT_REVOKED' });
    expect(error.pausesConnector).toBe(true);
    expect(error.message).toContain('set SALESFORCE_REFRESH_TOKEN to the new refresh token');
  });

  it('reports a grant revoked during a refresh the same way', async () => {
    const connector = connect();
    await connector.send(forSalesforce());
    salesforce.state.expireSessions();
    salesforce.state.grantRevoked = true;

    const error = await expectConnectorError(connector.send(forSalesforce()), { kind: 'temporary', code: 'SALESFORCE_GRANT_REVOKED' });
    expect(error.pausesConnector).toBe(true);
  });

  it('reports a wrong password as pausing the connector', async () => {
    const connector = connect({ refreshToken: null, username: salesforce.state.username, password: 'wrong' });

    const error = await expectConnectorError(connector.send(forSalesforce()), { kind: 'temporary', code: 'SALESFORCE_LOGIN_FAILED' });
    expect(error.pausesConnector).toBe(true);
    expect(error.message).toContain('security token');
  });

  it('reports a wrong client id as pausing the connector', async () => {
    const connector = connect({ clientId: 'not-the-consumer-key' });

    const error = await expectConnectorError(connector.send(forSalesforce()), { kind: 'temporary', code: 'SALESFORCE_CLIENT_INVALID' });
    expect(error.pausesConnector).toBe(true);
    expect(error.message).toContain('SALESFORCE_CLIENT_ID');
  });

  it('stops refreshing when every new token is rejected', async () => {
    salesforce.state.rejectAllSessions = true;

    await expectConnectorError(connect().send(forSalesforce()), { kind: 'permanent', code: 'SALESFORCE_SESSION_REJECTED' });
    expect(salesforce.state.tokenRequests).toHaveLength(3);
  });
});

describe('salesforce connector, errors', () => {
  it('reports REQUEST_LIMIT_EXCEEDED as pausing the connector', async () => {
    salesforce.state.limitExceeded = true;

    const error = await expectConnectorError(connect().send(forSalesforce()), { kind: 'temporary', code: 'SALESFORCE_API_LIMIT' });
    expect(error.pausesConnector).toBe(true);
    expect(error.message).toContain('rolling 24 hours');
    expect(error.message).toContain('TotalRequests Limit exceeded.');
  });

  it('keeps validation errors from pausing the connector', async () => {
    salesforce.state.failNext(1, { status: 400, body: [{ message: 'bad', errorCode: 'STRING_TOO_LONG', fields: ['Subject'] }] }, '/sobjects/Task');

    const error = await expectConnectorError(connect().send(forSalesforce()), { kind: 'permanent', code: 'SALESFORCE_VALIDATION_FAILED' });
    expect(error.pausesConnector).toBe(false);
  });

  it('names the field of a validation error', async () => {
    salesforce.state.failNext(
      1,
      { status: 400, body: [{ message: 'Required fields are missing: [Subject]', errorCode: 'REQUIRED_FIELD_MISSING', fields: ['Subject'] }] },
      '/sobjects/Task',
    );

    const error = await expectConnectorError(connect().send(forSalesforce()), { kind: 'permanent', code: 'SALESFORCE_VALIDATION_FAILED' });
    expect(error.message).toContain('Field: Subject.');
    expect(error.message).toContain('creating the Task');
  });

  it('names the column of an INVALID_FIELD error', async () => {
    salesforce.state.failNext(
      1,
      { status: 400, body: [{ message: "No such column 'Status' on sobject of type Task", errorCode: 'INVALID_FIELD' }] },
      '/sobjects/Task',
    );

    const error = await expectConnectorError(connect().send(forSalesforce()), { kind: 'permanent', code: 'SALESFORCE_VALIDATION_FAILED' });
    expect(error.message).toContain('Field: Status.');
  });

  it('treats HTTP 503 as temporary without retrying inside jsforce', async () => {
    const connector = connect();
    await connector.send(forSalesforce());
    const requestsBefore = salesforce.state.requests.length;
    salesforce.state.failNext(1, { status: 503, body: [{ message: 'Server unavailable', errorCode: 'SERVER_UNAVAILABLE' }] }, '/query');

    await expectConnectorError(connector.send(forSalesforce()), { kind: 'temporary', code: 'SALESFORCE_UNAVAILABLE' });
    expect(salesforce.state.requests.length - requestsBefore).toBe(1);
  });

  it('treats an HTML 502 as temporary', async () => {
    salesforce.state.failNext(1, { status: 502, body: '<html><body>Bad Gateway</body></html>', contentType: 'text/html' }, '/query');

    await expectConnectorError(connect().send(forSalesforce()), { kind: 'temporary', code: 'SALESFORCE_UNAVAILABLE' });
  });

  it('treats a refused connection as temporary', async () => {
    const stopped = await startSalesforceApi();
    await stopped.close();
    const connector = createSalesforceConnector(settingsFor(stopped));
    connectors.push(connector);

    await expectConnectorError(connector.send(forSalesforce()), { kind: 'temporary', code: 'SALESFORCE_UNREACHABLE' });
  });

  it('skips channel recipients and clients without email or Id', async () => {
    const connector = connect();
    const toChannel = forSalesforce({ recipient: { kind: 'channel', channel: '#deals' } });
    const anonymous = forSalesforce({ client: { email: null, externalId: 'crm-4471' } });

    await expect(connector.send(toChannel)).rejects.toBeInstanceOf(DeliverySkipped);
    await expect(connector.send(anonymous)).rejects.toBeInstanceOf(DeliverySkipped);
    expect(salesforce.state.requests).toHaveLength(0);
  });

  it('rejects an unknown template as permanent', async () => {
    const delivery = forSalesforce({ action: { connector: 'salesforce', template: 'open-house', to: 'client' } });

    await expectConnectorError(connect().send(delivery), { kind: 'permanent', code: 'SALESFORCE_UNKNOWN_TEMPLATE' });
  });
});

describe('salesforce connector, preview and outbox', () => {
  it('previews without calling Salesforce', () => {
    const preview = connect().preview(forSalesforce());

    expect(preview.target).toBe('Task on the Salesforce Contact or Lead of client Ada Lovelace (id 77)');
    expect(preview.subject).toBe('Price drop on favorite 62 Erin Crescent, Ottawa (MLS 1421130): -$25,000 (-3.6%)');
    expect(preview.text.split('\n')[0]).toBe(
      'The price of 62 Erin Crescent, Ottawa (MLS 1421130), a favorite of Ada Lovelace, dropped by -$25,000 (-3.6%).',
    );
    expect(salesforce.state.tokenRequests).toHaveLength(0);
  });

  it('describes live mode', () => {
    const connector = connect();

    expect(connector.mode).toBe('live');
    expect(connector.templates).toEqual(['favorite-created', 'price-drop', 'listing-sold']);
    expect(connector.describe()).toContain(salesforce.url);
  });

  it('writes the requests to the outbox without credentials', async () => {
    const outboxDir = await mkdtemp(path.join(os.tmpdir(), 'salesforce-outbox-'));
    try {
      const connector = createSalesforceConnector({
        ...settingsFor(salesforce),
        loginUrl: null,
        clientId: null,
        clientSecret: null,
        refreshToken: null,
        outboxDir,
      });
      expect(connector.mode).toBe('outbox');
      for (const variable of ['SALESFORCE_CLIENT_ID', 'SALESFORCE_CLIENT_SECRET', 'SALESFORCE_REFRESH_TOKEN', 'SALESFORCE_USERNAME', 'SALESFORCE_PASSWORD', 'SALESFORCE_LOGIN_URL']) {
        expect(connector.describe()).toContain(variable);
      }

      const delivery = forSalesforce();
      const receipt = await connector.send(delivery);

      expect(receipt).toEqual({ id: path.join(outboxDir, 'salesforce', `${delivery.key}.json`), outbox: true });
      const written = JSON.parse(await readFile(receipt.id, 'utf8'));
      expect(written.requests.map((request: { soql?: string; path: string }) => request.soql ?? request.path)).toEqual([
        "SELECT Id FROM Contact WHERE Email = 'ada.lovelace@example.com' ORDER BY LastModifiedDate DESC LIMIT 1",
        "SELECT Id FROM Lead WHERE Email = 'ada.lovelace@example.com' AND IsConverted = false ORDER BY LastModifiedDate DESC LIMIT 1",
        "SELECT Id FROM User WHERE Email = 'grace.hopper@example.com' AND IsActive = true ORDER BY LastModifiedDate DESC LIMIT 1",
        '/services/data/v61.0/sobjects/Task',
      ]);
      expect(written.requests[3].body.Status).toBe('Not Started');
      expect(salesforce.state.tokenRequests).toHaveLength(0);
    } finally {
      await rm(outboxDir, { recursive: true, force: true });
    }
  });

  it('names the missing variables when settings are incomplete', () => {
    const connector = createSalesforceConnector({ ...settingsFor(salesforce), clientSecret: null });

    expect(connector.mode).toBe('outbox');
    expect(connector.describe()).toContain('Missing now: SALESFORCE_CLIENT_SECRET.');
  });
});

describe('salesforce connector, finding an earlier record', () => {
  it('finds the Task of the delivery', async () => {
    const connector = connect();
    const delivery = forSalesforce();
    const since = new Date();
    const sent = await connector.send(delivery);

    const found = await connector.findSent!(delivery, since);

    expect(found).toEqual(sent);
    expect(salesforce.state.queries.at(-1)).toMatch(/^SELECT Id, Description FROM Task WHERE WhoId = '0035g00000ADA0001A' AND CreatedDate >= \d{4}-/);
  });

  it('finds the Note in note mode', async () => {
    const connector = connect({ recordType: 'note' });
    const delivery = forSalesforce();
    const since = new Date();
    const sent = await connector.send(delivery);

    expect(await connector.findSent!(delivery, since)).toEqual(sent);
  });

  it('ignores Tasks of other deliveries', async () => {
    const connector = connect();
    const since = new Date();
    await connector.send(forSalesforce({ key: 'other-delivery' }));

    expect(await connector.findSent!(forSalesforce(), since)).toBeNull();
  });

  it('returns null when no person matches', async () => {
    salesforce.state.contacts = [];

    expect(await connect().findSent!(forSalesforce(), new Date())).toBeNull();
    expect(salesforce.state.created).toHaveLength(0);
  });
});

let contractSalesforce: SalesforceStandIn | null = null;

describeConnectorContract({
  name: 'salesforce',
  outboxExtension: 'json',
  delivery: (suffix = '') => forSalesforce({ key: `salesforce-contract-${suffix}` }),
  async startLive() {
    contractSalesforce = await startSalesforceApi({
      contacts: [{ Id: adaContactId, Email: 'ada.lovelace@example.com' }],
      users: [{ Id: graceUserId, Email: 'grace.hopper@example.com', IsActive: true }],
    });
    return createSalesforceConnector(settingsFor(contractSalesforce));
  },
  async stopLive() {
    await contractSalesforce?.close();
    contractSalesforce = null;
  },
  acceptedCount: () => contractSalesforce?.state.created.length ?? 0,
  outbox: (outboxDir) =>
    createSalesforceConnector({ ...settingsFor(salesforce), clientId: null, clientSecret: null, refreshToken: null, outboxDir }),
  failures: [
    {
      name: 'an exhausted API limit',
      arrange: (delivery) => {
        contractSalesforce!.state.limitExceeded = true;
        return delivery;
      },
      kind: 'temporary',
      code: 'SALESFORCE_API_LIMIT',
    },
    {
      name: 'a revoked grant',
      arrange: (delivery) => {
        contractSalesforce!.state.grantRevoked = true;
        return delivery;
      },
      kind: 'temporary',
      code: 'SALESFORCE_GRANT_REVOKED',
    },
    {
      name: 'HTTP 503',
      arrange: (delivery) => {
        contractSalesforce!.state.failNext(1, { status: 503, body: [{ message: 'down', errorCode: 'SERVER_UNAVAILABLE' }] }, '/query');
        return delivery;
      },
      kind: 'temporary',
      code: 'SALESFORCE_UNAVAILABLE',
    },
    {
      name: 'a validation error',
      arrange: (delivery) => {
        contractSalesforce!.state.failNext(1, { status: 400, body: [{ message: 'Required fields are missing: [Subject]', errorCode: 'REQUIRED_FIELD_MISSING' }] }, '/sobjects/Task');
        return delivery;
      },
      kind: 'permanent',
      code: 'SALESFORCE_VALIDATION_FAILED',
    },
  ],
});
