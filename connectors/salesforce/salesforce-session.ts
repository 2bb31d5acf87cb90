/**
 * The jsforce Connection and how it gets access tokens.
 *
 * Two OAuth 2.0 flows are supported, both through jsforce's OAuth2 client against `<login URL>/services/oauth2/token`:
 * the refresh token flow (SALESFORCE_REFRESH_TOKEN) and, as a fallback, the username-password flow
 * (SALESFORCE_USERNAME and SALESFORCE_PASSWORD). Both need the connected app's SALESFORCE_CLIENT_ID and
 * SALESFORCE_CLIENT_SECRET. The SOAP login that jsforce uses without a client id is not supported, because Salesforce
 * retires it with API version 65.0.
 *
 * jsforce does the refreshing: when a request gets 401 INVALID_SESSION_ID it calls the `refreshFn` given here and
 * sends the request again. Its SessionRefreshDelegate (jsforce 3.10) runs one refresh at a time: a request that fails
 * while a refresh is under way waits for it, and one that was sent before the latest refresh finished retries
 * without refreshing again. That comparison uses whole milliseconds, so a request sent in the same millisecond as a
 * refresh finished can start a second refresh.
 *
 * This module supplies its own `refreshFn` instead of jsforce's built-in one for three reasons. It keeps the token
 * endpoint's error, of which jsforce passes on only the text. It serves both flows the same way. And it stops
 * jsforce's refresh-and-retry loop, which has no limit of its own, when Salesforce rejects every new token.
 */
import { Connection, type TokenResponse } from 'jsforce';

import { SessionRejectedError, type AuthFlow } from './salesforce-errors.js';

export type SalesforceAuth =
  | { flow: 'refresh-token'; clientId: string; clientSecret: string; refreshToken: string }
  | { flow: 'password'; clientId: string; clientSecret: string; username: string; password: string };

export interface SalesforceAuthSettings {
  clientId: string | null;
  clientSecret: string | null;
  refreshToken: string | null;
  username: string | null;
  password: string | null;
}

export interface SessionLogger {
  info(obj: object, msg: string): void;
}

/** Default login server for production orgs. Sandboxes use https://test.salesforce.com. */
export const defaultLoginUrl = 'https://login.salesforce.com';

/**
 * Maximum number of access tokens obtained within `tokenWindowMs`, with no API request accepted in between, before
 * the next token request is refused. Salesforce session timeouts are 15 minutes or longer, so that many tokens without
 * one accepted request means Salesforce rejects each new token.
 */
const maxTokensPerWindow = 3;
const tokenWindowMs = 60_000;

/**
 * Picks the flow the settings allow, and lists the environment variables still missing when some are set but not
 * enough for either flow.
 */
export function chooseAuth(settings: SalesforceAuthSettings): { auth: SalesforceAuth | null; missing: string[] } {
  const { clientId, clientSecret, refreshToken, username, password } = settings;
  const clientMissing = [clientId ? null : 'SALESFORCE_CLIENT_ID', clientSecret ? null : 'SALESFORCE_CLIENT_SECRET'];

  if (refreshToken) {
    if (clientId && clientSecret) return { auth: { flow: 'refresh-token', clientId, clientSecret, refreshToken }, missing: [] };
    return { auth: null, missing: clientMissing.filter((name): name is string => name !== null) };
  }

  if (username || password) {
    if (clientId && clientSecret && username && password) {
      return { auth: { flow: 'password', clientId, clientSecret, username, password }, missing: [] };
    }
    const missing = [...clientMissing, username ? null : 'SALESFORCE_USERNAME', password ? null : 'SALESFORCE_PASSWORD'];
    return { auth: null, missing: missing.filter((name): name is string => name !== null) };
  }

  return { auth: null, missing: [] };
}

export class SalesforceSession {
  readonly connection: Connection;
  readonly flow: AuthFlow;

  /** The error of the latest failed token request, or null once a token request succeeds. */
  lastTokenError: unknown = null;

  private readonly auth: SalesforceAuth;
  private readonly logger: SessionLogger;
  private firstToken: Promise<void> | null = null;
  private tokenTimes: number[] = [];

  constructor(auth: SalesforceAuth, options: { loginUrl: string; instanceUrl: string | null; apiVersion: string }, logger: SessionLogger) {
    this.auth = auth;
    this.flow = auth.flow;
    this.logger = logger;

    this.connection = new Connection({
      loginUrl: options.loginUrl,
      instanceUrl: options.instanceUrl ?? undefined,
      version: options.apiVersion,
      oauth2: { clientId: auth.clientId, clientSecret: auth.clientSecret, loginUrl: options.loginUrl },
      refreshFn: (connection, callback) => {
        this.requestToken().then(
          (token) => {
            connection.instanceUrl = token.instance_url || connection.instanceUrl;
            // jsforce stores the token on the connection and then emits 'refresh'.
            callback(null, token.access_token, token);
          },
          (error: unknown) => callback(error instanceof Error ? error : new Error(String(error))),
        );
      },
    });

    this.connection.on('refresh', () => {
      this.logger.info({ flow: this.flow, instanceUrl: this.connection.instanceUrl }, 'Salesforce session refreshed');
    });
  }

  /**
   * Gets the first access token unless the connection has one. Concurrent callers share one token request, and a
   * failed request is tried again by the next caller. Later expiries are jsforce's to handle.
   */
  async ensureToken(): Promise<void> {
    if (this.connection.accessToken) return;

    if (!this.firstToken) {
      this.firstToken = this.startSession().finally(() => {
        this.firstToken = null;
      });
    }
    await this.firstToken;
  }

  private async startSession(): Promise<void> {
    const token = await this.requestToken();
    this.connection.instanceUrl = token.instance_url || this.connection.instanceUrl;
    this.connection.accessToken = token.access_token;
    this.logger.info({ flow: this.flow, instanceUrl: this.connection.instanceUrl }, 'Salesforce session started');
  }

  /** Requests a new access token with the configured flow, and records the error when the request fails. */
  private async requestToken(): Promise<TokenResponse> {
    try {
      this.guardAgainstTokenLoop();
      const token =
        this.auth.flow === 'refresh-token'
          ? await this.connection.oauth2.refreshToken(this.auth.refreshToken)
          : await this.connection.oauth2.authenticate(this.auth.username, this.auth.password);
      this.tokenTimes.push(Date.now());
      this.lastTokenError = null;
      return token;
    } catch (error) {
      this.lastTokenError = error;
      throw error;
    }
  }

  /** Notes that Salesforce accepted the current token, which ends any run of rejected tokens. */
  recordTokenAccepted(): void {
    this.tokenTimes = [];
  }

  private guardAgainstTokenLoop(): void {
    const since = Date.now() - tokenWindowMs;
    this.tokenTimes = this.tokenTimes.filter((time) => time > since);
    if (this.tokenTimes.length >= maxTokensPerWindow) {
      throw new SessionRejectedError(
        `Salesforce rejected ${this.tokenTimes.length} new access tokens in a row within a minute (INVALID_SESSION_ID). ` +
          "Check the connected app's IP restrictions and session policies and the integration user's API Enabled permission.",
      );
    }
  }
}
