/**
 * The OpenAPI 3.1 description of the admin API, served at `GET /admin/api/openapi.json`. A test keeps its paths and
 * the routes of the admin router equal, in both directions.
 */
import { connectorNames } from '../../connectors/registry.js';

const json = (schema: unknown) => ({ content: { 'application/json': { schema } } });
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

const errorResponse = (description: string) => ({ description, ...json(ref('Error')) });

const standardErrors = {
  '401': errorResponse('The bearer token is missing or wrong.'),
  '500': errorResponse('The hub failed; the log line with the same x-request-id says why.'),
};

const queryParameter = (name: string, description: string, schema: unknown = { type: 'string', maxLength: 200 }) => ({
  name,
  in: 'query',
  required: false,
  description,
  schema,
});

const pathParameter = (name: string, description: string) => ({
  name,
  in: 'path',
  required: true,
  description,
  schema: { type: 'string', minLength: 1, maxLength: 200 },
});

/** A time in either form of src/time-input.ts: an ISO 8601 time, or a duration back from now. */
const timeSchema = { type: 'string', pattern: '^(\\d+\\s*[smhdw]|\\d{4}-\\d{2}-\\d{2}.*)$' };

const timeParameter = (name: string, description: string) =>
  queryParameter(name, `${description} An ISO 8601 time, or a duration back from now such as 30m, 24h or 7d.`, timeSchema);

const limitParameter = (maximum: number, fallback: number) =>
  queryParameter('limit', `Maximum items returned, 1 to ${maximum}; ${fallback} by default.`, {
    type: 'integer',
    minimum: 1,
    maximum,
    default: fallback,
  });

const outcomes = ['received', 'routed', 'ignored', 'failed'];
const deliveryStatuses = ['pending', 'sending', 'sent', 'failed', 'skipped'];

export const adminOpenApi = {
  openapi: '3.1.0',
  info: {
    title: 'Repliers webhook hub admin API',
    version: '1.0.0',
    description:
      'See why an event was or was not delivered, replay events, retry failed deliveries and try rules. Every ' +
      'route needs the HUB_ADMIN_TOKEN as a bearer token. Times are ISO 8601 strings in UTC.',
  },
  security: [{ bearerAuth: [] }],
  paths: {
    '/admin/api/openapi.json': {
      get: {
        operationId: 'getOpenApi',
        summary: 'This document.',
        responses: { '200': { description: 'The OpenAPI document.', ...json({ type: 'object' }) }, ...standardErrors },
      },
    },
    '/admin/api/status': {
      get: {
        operationId: 'getStatus',
        summary: 'Queue depths, connectors and the live rule set of this hub process.',
        responses: { '200': { description: 'The status.', ...json(ref('Status')) }, ...standardErrors },
      },
    },
    '/admin/api/events': {
      get: {
        operationId: 'listEvents',
        summary: 'Recorded events, newest first, under the given filters.',
        parameters: [
          queryParameter('type', 'Event type, such as listing.updated.'),
          queryParameter('outcome', 'Outcome of the latest routing.', { type: 'string', enum: outcomes }),
          queryParameter('mlsNumber', 'Events about this listing.'),
          queryParameter('clientId', 'Events concerning this client: named in the payload, owner of a favorite concerned, or recipient.'),
          queryParameter('agentId', 'Events concerning this agent.'),
          timeParameter('since', 'Received at or after this time.'),
          timeParameter('until', 'Received before this time.'),
          limitParameter(500, 50),
          queryParameter('cursor', 'The nextCursor of the previous page.'),
        ],
        responses: {
          '200': { description: 'One page of events.', ...json(ref('EventPage')) },
          '400': errorResponse('A filter is invalid; the error names it.'),
          ...standardErrors,
        },
      },
    },
    '/admin/api/events/{eventId}': {
      get: {
        operationId: 'getEvent',
        summary: 'One event: payload, verification, rule trace and deliveries with their attempts.',
        parameters: [pathParameter('eventId', 'The event id.')],
        responses: {
          '200': { description: 'The event.', ...json(ref('EventDetail')) },
          '404': errorResponse('No recorded event has this id.'),
          ...standardErrors,
        },
      },
    },
    '/admin/api/events/{eventId}/replay': {
      post: {
        operationId: 'replayEvent',
        summary:
          'Routes the event again through the live rules. Deliveries already made keep their keys and are not made ' +
          'again, unless force is true, which makes every delivery again under a new key.',
        parameters: [pathParameter('eventId', 'The event id.')],
        requestBody: {
          required: false,
          ...json({ type: 'object', properties: { force: { type: 'boolean', default: false } }, additionalProperties: false }),
        },
        responses: {
          '202': {
            description: 'The replay is on the events queue.',
            ...json({
              type: 'object',
              required: ['jobId', 'replayNumber'],
              properties: { jobId: { type: 'string' }, replayNumber: { type: 'integer' } },
            }),
          },
          '400': errorResponse('The body is invalid.'),
          '404': errorResponse('No recorded event has this id.'),
          ...standardErrors,
        },
      },
    },
    '/admin/api/deliveries': {
      get: {
        operationId: 'listDeliveries',
        summary: 'Deliveries by last change, newest first, under the given filters.',
        parameters: [
          queryParameter('status', 'Delivery status.', { type: 'string', enum: deliveryStatuses }),
          queryParameter('connector', 'Connector name.', { type: 'string', enum: [...connectorNames] }),
          queryParameter('ruleId', 'Rule id.'),
          queryParameter('eventId', 'Event id.'),
          timeParameter('since', 'Last changed at or after this time.'),
          timeParameter('until', 'Last changed before this time.'),
          limitParameter(500, 50),
        ],
        responses: {
          '200': {
            description: 'The deliveries.',
            ...json({ type: 'object', required: ['deliveries'], properties: { deliveries: { type: 'array', items: ref('Delivery') } } }),
          },
          '400': errorResponse('A filter is invalid; the error names it.'),
          ...standardErrors,
        },
      },
    },
    '/admin/api/deliveries/{key}': {
      get: {
        operationId: 'getDelivery',
        summary: 'One delivery with the state of its job.',
        parameters: [pathParameter('key', 'The delivery key (its idempotency key).')],
        responses: {
          '200': { description: 'The delivery.', ...json(ref('Delivery')) },
          '404': errorResponse('No delivery has this key.'),
          ...standardErrors,
        },
      },
    },
    '/admin/api/deliveries/{key}/retry': {
      post: {
        operationId: 'retryDelivery',
        summary: 'Retries one failed delivery.',
        parameters: [pathParameter('key', 'The delivery key.')],
        responses: {
          '202': { description: 'The delivery is queued again.', ...json(ref('RetryResult')) },
          '404': errorResponse('No delivery has this key.'),
          '409': errorResponse('The delivery is not failed, its job is still queued, or it cannot be rebuilt; the code says which.'),
          ...standardErrors,
        },
      },
    },
    '/admin/api/deliveries/retry': {
      post: {
        operationId: 'retryDeliveries',
        summary: 'Retries the failed deliveries under a filter, newest failure first.',
        requestBody: {
          required: true,
          ...json({
            type: 'object',
            additionalProperties: false,
            properties: {
              connector: { type: 'string', enum: [...connectorNames] },
              ruleId: { type: 'string' },
              eventId: { type: 'string' },
              since: { ...timeSchema, description: 'Last changed at or after this time: an ISO 8601 time, or a duration back from now such as 24h.' },
              until: { ...timeSchema, description: 'Last changed before this time, in the same forms as since.' },
              limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
            },
          }),
        },
        responses: {
          '200': { description: 'What was retried and what was not, with why.', ...json(ref('BulkRetryResult')) },
          '400': errorResponse('The body is invalid.'),
          ...standardErrors,
        },
      },
    },
    '/admin/api/rules': {
      get: {
        operationId: 'listRules',
        summary: 'The live rule set of this hub process.',
        responses: { '200': { description: 'The rules.', ...json(ref('RuleSet')) }, ...standardErrors },
      },
    },
    '/admin/api/rules/preview': {
      post: {
        operationId: 'previewRules',
        summary:
          'Evaluates the live rules against a recorded event or a pasted payload and renders each message, without ' +
          'sending anything. The mirror is read as it is now; the payload is not applied to it.',
        requestBody: {
          required: true,
          ...json({
            oneOf: [
              { type: 'object', required: ['eventId'], properties: { eventId: { type: 'string' } }, additionalProperties: false },
              {
                type: 'object',
                required: ['event', 'payload'],
                properties: { event: { type: 'string', description: 'Event type, such as listing.updated.' }, payload: {} },
                additionalProperties: false,
              },
            ],
          }),
        },
        responses: {
          '200': { description: 'Rules evaluated and messages rendered.', ...json(ref('RulePreview')) },
          '400': errorResponse('The body or the payload is invalid.'),
          '404': errorResponse('No recorded event has this id.'),
          ...standardErrors,
        },
      },
    },
  },
  components: {
    securitySchemes: {
      bearerAuth: { type: 'http', scheme: 'bearer', description: 'The value of HUB_ADMIN_TOKEN.' },
    },
    schemas: {
      Error: {
        type: 'object',
        required: ['error', 'code'],
        properties: {
          error: { type: 'string', description: 'What went wrong and what to do.' },
          code: { type: 'string', description: 'A stable code, such as ADMIN_UNAUTHORIZED or DELIVERY_NOT_FAILED.' },
          field: { type: 'string', description: 'The invalid parameter or body field, in 400 responses.' },
        },
      },
      EventSummary: {
        type: 'object',
        required: ['eventId', 'event', 'source', 'receivedAt', 'outcome'],
        properties: {
          eventId: { type: 'string' },
          event: { type: 'string' },
          source: { type: 'string' },
          receivedAt: { type: 'string', format: 'date-time' },
          outcome: { type: 'string', enum: outcomes },
          outcomeDetail: { type: ['string', 'null'] },
          ruleSetVersion: { type: ['string', 'null'] },
          finishedAt: { type: ['string', 'null'], format: 'date-time' },
        },
      },
      EventPage: {
        type: 'object',
        required: ['events', 'nextCursor'],
        properties: { events: { type: 'array', items: ref('EventSummary') }, nextCursor: { type: ['string', 'null'] } },
      },
      EventDetail: {
        type: 'object',
        required: ['event', 'payload', 'verification', 'trace', 'deliveries'],
        properties: {
          event: {
            allOf: [ref('EventSummary'), { type: 'object', properties: { path: { type: 'string' }, replayCount: { type: 'integer' } } }],
          },
          payload: { description: 'The body as received, parsed as JSON.' },
          verification: {
            type: 'object',
            properties: { verified: { type: 'boolean' }, method: { type: 'string' } },
          },
          trace: {
            type: 'object',
            properties: {
              ruleSetVersion: { type: ['string', 'null'] },
              liveRuleSetVersion: { type: 'string' },
              matchedRules: {
                type: ['array', 'null'],
                items: {
                  type: 'object',
                  properties: {
                    id: { type: 'string' },
                    live: { type: 'boolean' },
                    description: { type: ['string', 'null'] },
                    when: {},
                    actions: { type: 'array' },
                  },
                },
              },
              subjects: {
                type: 'array',
                items: { type: 'object', properties: { kind: { type: 'string' }, value: { type: 'string' } } },
              },
            },
          },
          deliveries: { type: 'array', items: ref('Delivery') },
        },
      },
      Delivery: {
        type: 'object',
        required: ['key', 'eventId', 'ruleId', 'connector', 'recipient', 'status', 'attempts'],
        properties: {
          key: { type: 'string', description: 'The idempotency key of (event, rule, action, recipient).' },
          eventId: { type: 'string' },
          ruleId: { type: 'string' },
          ruleSetVersion: { type: 'string' },
          connector: { type: 'string' },
          recipient: { type: 'string', description: 'client:<id>, agent:<id> or channel:<name>.' },
          status: { type: 'string', enum: deliveryStatuses },
          attempts: { type: 'integer' },
          rateLimitedCount: { type: 'integer' },
          lastError: { type: ['string', 'null'] },
          receipt: { type: ['string', 'null'] },
          createdAt: { type: 'string', format: 'date-time' },
          updatedAt: { type: 'string', format: 'date-time' },
          job: {
            type: ['object', 'null'],
            description: 'The BullMQ job, while the queue keeps it.',
            properties: {
              state: { type: 'string' },
              attemptsMade: { type: 'integer' },
              failedReason: { type: ['string', 'null'] },
              errors: { type: 'array', items: { type: 'string' } },
              finishedAt: { type: ['string', 'null'], format: 'date-time' },
            },
          },
        },
      },
      RetryResult: {
        type: 'object',
        required: ['key', 'via'],
        properties: { key: { type: 'string' }, via: { type: 'string', enum: ['job', 'rebuilt'] } },
      },
      BulkRetryResult: {
        type: 'object',
        required: ['retried', 'notRetried'],
        properties: {
          retried: { type: 'array', items: ref('RetryResult') },
          notRetried: {
            type: 'array',
            items: { type: 'object', properties: { key: { type: 'string' }, code: { type: 'string' }, error: { type: 'string' } } },
          },
        },
      },
      RuleSet: {
        type: 'object',
        required: ['version', 'rules'],
        properties: {
          version: { type: 'string' },
          rules: {
            type: 'array',
            items: {
              type: 'object',
              properties: {
                id: { type: 'string' },
                description: { type: 'string' },
                events: { type: 'array', items: { type: 'string' } },
                when: {},
                actions: { type: 'array' },
                disabled: { type: 'boolean' },
                file: { type: 'string' },
              },
            },
          },
        },
      },
      RulePreview: {
        type: 'object',
        required: ['eventType', 'ruleSetVersion', 'rulesForEvent', 'matchedRules', 'evaluations', 'deliveries'],
        properties: {
          eventType: { type: 'string' },
          ruleSetVersion: { type: 'string' },
          rulesForEvent: { type: 'array', items: { type: 'string' } },
          matchedRules: { type: 'array', items: { type: 'string' } },
          evaluations: {
            type: 'array',
            items: {
              type: 'object',
              properties: {
                ruleId: { type: 'string' },
                favoriteId: { type: ['string', 'null'] },
                clientId: { type: ['string', 'null'] },
                agentId: { type: ['string', 'null'] },
                matched: { type: 'boolean' },
                error: { type: ['string', 'null'] },
              },
            },
          },
          deliveries: {
            type: 'array',
            items: {
              type: 'object',
              properties: {
                key: { type: 'string' },
                ruleId: { type: 'string' },
                connector: { type: 'string' },
                template: { type: 'string' },
                recipient: { type: 'string' },
                recordedStatus: { type: ['string', 'null'] },
                preview: {
                  type: ['object', 'null'],
                  properties: {
                    connector: { type: 'string' },
                    target: { type: 'string' },
                    subject: { type: 'string' },
                    text: { type: 'string' },
                    html: { type: 'string' },
                  },
                },
                skipped: { type: ['string', 'null'] },
                error: { type: ['string', 'null'] },
              },
            },
          },
          unknownFavoriteIds: { type: 'array', items: { type: 'string' } },
        },
      },
      Status: {
        type: 'object',
        properties: {
          queues: {
            type: 'array',
            items: {
              type: 'object',
              properties: {
                name: { type: 'string' },
                paused: { type: 'boolean' },
                counts: { type: 'object', additionalProperties: { type: 'integer' } },
                oldestWaitingSeconds: { type: 'number' },
              },
            },
          },
          connectors: {
            type: 'array',
            items: { type: 'object', properties: { name: { type: 'string' }, mode: { type: 'string', enum: ['live', 'outbox'] } } },
          },
          rules: {
            type: 'object',
            properties: { version: { type: 'string' }, total: { type: 'integer' }, enabled: { type: 'integer' } },
          },
        },
      },
    },
  },
} as const;
