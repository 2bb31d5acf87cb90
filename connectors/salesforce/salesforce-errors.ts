/**
 * Sorting of jsforce errors into temporary and permanent ConnectorErrors.
 *
 * jsforce 3.10 throws three shapes: REST API errors with `errorCode` (and `data.fields` for validation errors),
 * token endpoint errors whose `name` is the OAuth error such as `invalid_grant`, and node-fetch errors for network
 * failures. A failed session refresh reaches the caller that started it only as a new Error with the text "Unable to
 * refresh session due to: …", so the session passes the original token error in here separately.
 */
import { ConnectorError } from '../connector.js';

export type AuthFlow = 'refresh-token' | 'password';

export interface SalesforceCallContext {
  /** The step that failed, such as "creating the Task", for the message. */
  action: string;
  flow: AuthFlow;
  /** The error of the latest failed token request, or null when the latest one succeeded. */
  lastTokenError: unknown;
}

/** Thrown by the session when new access tokens keep being rejected, to stop jsforce's refresh-and-retry loop. */
export class SessionRejectedError extends Error {
  override readonly name = 'SessionRejectedError';
}

const refreshFailurePrefix = 'Unable to refresh session due to:';

/** REST API error codes for a passing problem at Salesforce's end. */
const temporaryApiErrors = new Set(['SERVER_UNAVAILABLE', 'UNKNOWN_EXCEPTION', 'UNABLE_TO_LOCK_ROW', 'QUERY_TIMEOUT']);

/** REST API error codes that mean a field value or the org's field setup rejected the record. */
const validationErrors = new Set([
  'REQUIRED_FIELD_MISSING',
  'INVALID_FIELD',
  'INVALID_FIELD_FOR_INSERT_UPDATE',
  'FIELD_CUSTOM_VALIDATION_EXCEPTION',
  'FIELD_INTEGRITY_EXCEPTION',
  'STRING_TOO_LONG',
  'INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST',
  'INVALID_CROSS_REFERENCE_KEY',
  'INVALID_EMAIL_ADDRESS',
  'MALFORMED_ID',
  'DUPLICATES_DETECTED',
]);

/** REST API error codes that mean the integration user may not do this. */
const accessErrors = new Set([
  'INSUFFICIENT_ACCESS_OR_READONLY',
  'INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY',
  'API_DISABLED_FOR_ORG',
  'API_CURRENTLY_DISABLED',
  'INVALID_TYPE',
]);

/** Network error codes from node-fetch and Node's sockets. */
const networkErrorCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH']);

interface ApiErrorDetail {
  errorCode: string;
  message: string;
  fields: string[];
}

/** Converts an error from a jsforce call into a ConnectorError. Errors of unknown shape count as temporary. */
export function toSalesforceConnectorError(error: unknown, context: SalesforceCallContext): ConnectorError {
  if (error instanceof ConnectorError) return error;

  if (error instanceof SessionRejectedError) {
    return permanent('SALESFORCE_SESSION_REJECTED', error.message, error);
  }

  if (error instanceof Error && error.message.startsWith(refreshFailurePrefix) && context.lastTokenError) {
    return toSalesforceConnectorError(context.lastTokenError, { ...context, lastTokenError: null });
  }

  const api = apiErrorDetail(error);
  if (api) return fromApiError(api, error, context);

  const oauthError = oauthErrorName(error);
  if (oauthError) return fromTokenError(oauthError, error as Error, context);

  if (isNetworkError(error)) {
    return temporary('SALESFORCE_UNREACHABLE', `Salesforce could not be reached while ${context.action}: ${messageOf(error)}.`, error);
  }

  return temporary('SALESFORCE_UNEXPECTED_ERROR', `Salesforce failed while ${context.action}: ${messageOf(error)}.`, error);
}

function fromApiError(api: ApiErrorDetail, error: unknown, context: SalesforceCallContext): ConnectorError {
  const { errorCode, message } = api;
  const detail = `${message} (${errorCode})`;

  if (errorCode === 'REQUEST_LIMIT_EXCEEDED') {
    return pausing(
      'SALESFORCE_API_LIMIT',
      `Salesforce refused the request while ${context.action}: the org's API request limit is used up: ${detail}. ` +
        'The limit counts requests over a rolling 24 hours; raise it in Salesforce or wait for it to recover.',
      error,
    );
  }

  if (errorCode === 'INVALID_SESSION_ID') {
    return permanent(
      'SALESFORCE_SESSION_REJECTED',
      `Salesforce rejected the session while ${context.action}: ${detail}. Check the connected app's IP restrictions and the user's API Enabled permission.`,
      error,
    );
  }

  const httpStatus = /^ERROR_HTTP_(\d{3})$/.exec(errorCode)?.[1];
  if (temporaryApiErrors.has(errorCode) || (httpStatus && (Number(httpStatus) >= 500 || httpStatus === '429'))) {
    return temporary('SALESFORCE_UNAVAILABLE', `Salesforce failed while ${context.action}: ${detail}.`, error);
  }

  if (validationErrors.has(errorCode)) {
    const fields = api.fields.length > 0 ? api.fields : fieldsNamedIn(message);
    const fieldText = fields.length > 0 ? ` Field${fields.length > 1 ? 's' : ''}: ${fields.join(', ')}.` : '';
    return permanent(
      'SALESFORCE_VALIDATION_FAILED',
      `Salesforce rejected the record while ${context.action}: ${detail}.${fieldText} Check the field's requirements and validation rules in Salesforce Setup.`,
      error,
    );
  }

  if (accessErrors.has(errorCode)) {
    return permanent(
      'SALESFORCE_ACCESS_DENIED',
      `Salesforce denied access while ${context.action}: ${detail}. Give the integration user API access and permission to read Contacts, Leads and Users and to create Tasks, Notes and Leads.`,
      error,
    );
  }

  return permanent('SALESFORCE_REQUEST_REJECTED', `Salesforce rejected the request while ${context.action}: ${detail}.`, error);
}

function fromTokenError(oauthError: string, error: Error, context: SalesforceCallContext): ConnectorError {
  const detail = `${oauthError}: ${error.message}`;

  if (oauthError === 'invalid_grant' && context.flow === 'refresh-token') {
    return pausing(
      'SALESFORCE_GRANT_REVOKED',
      `Salesforce rejected SALESFORCE_REFRESH_TOKEN (${detail}); the grant was revoked or has expired. ` +
        'Authorise the connected app again and set SALESFORCE_REFRESH_TOKEN to the new refresh token.',
      error,
    );
  }

  if (oauthError === 'invalid_grant') {
    return pausing(
      'SALESFORCE_LOGIN_FAILED',
      `Salesforce rejected SALESFORCE_USERNAME and SALESFORCE_PASSWORD (${detail}). Check both; outside the org's trusted IP ranges the password must end with the user's security token.`,
      error,
    );
  }

  if (oauthError === 'invalid_client_id' || oauthError === 'invalid_client') {
    return pausing(
      'SALESFORCE_CLIENT_INVALID',
      `Salesforce rejected the connected app (${detail}). Check SALESFORCE_CLIENT_ID and SALESFORCE_CLIENT_SECRET against the app's consumer key and secret.`,
      error,
    );
  }

  const httpStatus = /^ERROR_HTTP_(\d{3})$/.exec(oauthError)?.[1];
  if (httpStatus && Number(httpStatus) >= 500) {
    return temporary('SALESFORCE_UNAVAILABLE', `The Salesforce token endpoint failed while ${context.action}: ${detail}.`, error);
  }

  return permanent(
    'SALESFORCE_AUTH_FAILED',
    `Salesforce refused an access token (${detail}). Check the connected app's OAuth settings and SALESFORCE_LOGIN_URL.`,
    error,
  );
}

/** Reads a REST API error: jsforce's HttpApiError keeps the code in `errorCode` and the response item in `data`. */
function apiErrorDetail(error: unknown): ApiErrorDetail | null {
  if (!(error instanceof Error)) return null;
  const { errorCode, data } = error as Error & { errorCode?: unknown; data?: unknown };
  if (typeof errorCode !== 'string' || errorCode === '' || errorCode === 'Error') return null;

  // Several errors in one response arrive as MULTIPLE_API_ERRORS with the list in `data`. The first one decides.
  if (errorCode === 'MULTIPLE_API_ERRORS' && Array.isArray(data) && data.length > 0) {
    const first = data[0] as { errorCode?: unknown; message?: unknown; fields?: unknown };
    const rest = data.length > 1 ? ` (and ${data.length - 1} more)` : '';
    return {
      errorCode: String(first.errorCode ?? errorCode),
      message: `${String(first.message ?? error.message)}${rest}`,
      fields: stringList(first.fields),
    };
  }

  const fields = data && typeof data === 'object' ? stringList((data as { fields?: unknown }).fields) : [];
  return { errorCode, message: error.message, fields };
}

/** Returns the OAuth error name jsforce puts in `name` for a token endpoint failure, such as `invalid_grant`. */
function oauthErrorName(error: unknown): string | null {
  if (!(error instanceof Error)) return null;
  if ('errorCode' in error) return null;
  return /^(?:[a-z]+(?:_[a-z]+)+|ERROR_HTTP_\d{3})$/.test(error.name) ? error.name : null;
}

function isNetworkError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error.name === 'FetchError' || error.name === 'AbortError') return true;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && networkErrorCodes.has(code);
}

/** Finds field names in messages such as "Required fields are missing: [Subject]" or "No such column 'Foo__c'". */
function fieldsNamedIn(message: string): string[] {
  const bracketed = /\[([^\]]+)\]/.exec(message)?.[1];
  if (bracketed) return bracketed.split(',').map((field) => field.trim()).filter((field) => field);
  const column = /column '([^']+)'/.exec(message)?.[1];
  return column ? [column] : [];
}

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function permanent(code: string, message: string, cause: unknown): ConnectorError {
  return new ConnectorError('salesforce', 'permanent', code, message, { cause });
}

/**
 * Builds an error that stops every delivery alike, such as an exhausted API limit or rejected credentials. It is
 * temporary for the delivery, and the worker pauses the connector so deliveries wait until the cause is fixed.
 */
function pausing(code: string, message: string, cause: unknown): ConnectorError {
  return new ConnectorError('salesforce', 'temporary', code, message, { cause, pausesConnector: true });
}

function temporary(code: string, message: string, cause: unknown): ConnectorError {
  return new ConnectorError('salesforce', 'temporary', code, message, { cause });
}
