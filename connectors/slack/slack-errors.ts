/**
 * Sorting of @slack/web-api errors into temporary and permanent ConnectorErrors. Codes are `SLACK_` followed by
 * Slack's own error name in capitals (`channel_not_found` becomes `SLACK_CHANNEL_NOT_FOUND`), so a log search finds
 * both. Permanent messages state the fix. Errors about the token pause the whole connector instead.
 */
import { ErrorCode, type WebAPIHTTPError, type WebAPIPlatformError, type WebAPIRateLimitedError } from '@slack/web-api';

import { ConnectorError } from '../connector.js';

/** The Web API method that failed and the rule, channel or agent it concerned, for the error message. */
export interface SlackCallContext {
  method: string;
  ruleId: string;
  channel?: string;
  agentLabel?: string;
}

/** Platform errors that describe a passing problem at Slack rather than a wrong request. */
const temporaryPlatformErrors = new Set(['internal_error', 'fatal_error', 'service_unavailable', 'request_timeout']);

/**
 * Platform errors about SLACK_TOKEN itself. Every delivery would fail alike until an admin sets a new token, so they
 * pause the connector and its deliveries wait instead of failing one by one.
 */
const tokenPlatformErrors = new Set(['invalid_auth', 'not_authed', 'account_inactive', 'token_revoked', 'token_expired']);

const platformErrorFixes: Record<string, (context: SlackCallContext, data: WebAPIPlatformError['data']) => string> = {
  not_in_channel: ({ channel }) =>
    `The Slack app is not a member of ${channel}. Invite the app to the channel (type /invite @app-name in ${channel}), then retry the delivery.`,
  channel_not_found: ({ channel, ruleId }) =>
    `Slack channel ${channel} was not found. Check the channel name in rule ${ruleId}. A private channel also needs the app invited to it.`,
  is_archived: ({ channel, ruleId }) =>
    `Slack channel ${channel} is archived. Unarchive it or change the channel in rule ${ruleId}.`,
  invalid_auth: () =>
    'Slack rejected the token (invalid_auth). Check SLACK_TOKEN: it must be the bot token (xoxb-…) of an app installed in the workspace.',
  not_authed: () => 'Slack received no token (not_authed). Set SLACK_TOKEN to the bot token (xoxb-…) of the installed app.',
  account_inactive: () =>
    'The Slack user or bot behind SLACK_TOKEN is deactivated (account_inactive). Reinstall the app and set SLACK_TOKEN to its new bot token.',
  token_revoked: () =>
    'SLACK_TOKEN was revoked (token_revoked), usually because the app was uninstalled. Reinstall the app and set SLACK_TOKEN to its new bot token.',
  token_expired: () =>
    'SLACK_TOKEN has expired (token_expired). Turn off token rotation for the app or set SLACK_TOKEN to a new bot token.',
  users_not_found: ({ agentLabel }) =>
    `No Slack user has the email of ${agentLabel}. The agent's email in Repliers must be the one on their Slack account: fix the email or invite the agent to the workspace with it.`,
  user_not_found: ({ agentLabel }) => `Slack could not open a direct message with ${agentLabel} (user_not_found).`,
  user_disabled: ({ agentLabel }) =>
    `The Slack account of ${agentLabel} is deactivated (user_disabled). Reactivate it or send this rule's alerts to a channel.`,
  missing_scope: ({ method }, data) => {
    const reported = (data as { needed?: unknown }).needed;
    const needed = typeof reported === 'string' ? reported : 'the scope in the response';
    return `SLACK_TOKEN lacks the scope ${needed} that ${method} needs. Add the scope to the Slack app, reinstall it and update SLACK_TOKEN.`;
  },
};

/** Converts an error thrown by a WebClient call into a ConnectorError. Errors of other kinds count as temporary. */
export function toSlackConnectorError(error: unknown, context: SlackCallContext): ConnectorError {
  const code = (error as { code?: unknown } | null)?.code;

  if (code === ErrorCode.RateLimitedError) {
    const retryAfterSeconds = (error as WebAPIRateLimitedError).retryAfter;
    return new ConnectorError(
      'slack',
      'temporary',
      'SLACK_RATE_LIMITED',
      `Slack rate limit reached on ${context.method}; Slack asked to retry after ${retryAfterSeconds} s.`,
      { retryAfterMs: retryAfterSeconds * 1000, cause: error },
    );
  }

  if (code === ErrorCode.PlatformError) {
    return fromPlatformError(error as WebAPIPlatformError, context);
  }

  if (code === ErrorCode.HTTPError) {
    const { statusCode } = error as WebAPIHTTPError;
    if (statusCode >= 500 || statusCode === 408) {
      return new ConnectorError('slack', 'temporary', 'SLACK_UNAVAILABLE', `Slack ${context.method} failed with HTTP ${statusCode}.`, {
        cause: error,
      });
    }
    return new ConnectorError(
      'slack',
      'permanent',
      'SLACK_HTTP_ERROR',
      `Slack ${context.method} failed with HTTP ${statusCode}. Check SLACK_API_URL if it is set; it must be the Web API base URL ending in /api/.`,
      { cause: error },
    );
  }

  if (code === ErrorCode.RequestError) {
    return new ConnectorError('slack', 'temporary', 'SLACK_UNREACHABLE', `Slack ${context.method} failed: ${errorMessage(error)}.`, {
      cause: error,
    });
  }

  // A 429 without a usable Retry-After header arrives here as a plain Error, as do bugs, so retrying is the safe choice.
  return new ConnectorError('slack', 'temporary', 'SLACK_UNEXPECTED_ERROR', `Slack ${context.method} failed: ${errorMessage(error)}.`, {
    cause: error,
  });
}

function fromPlatformError(error: WebAPIPlatformError, context: SlackCallContext): ConnectorError {
  const slackError = String(error.data.error);
  const code = `SLACK_${slackError.toUpperCase().replace(/[^A-Z0-9]+/g, '_').slice(0, 60)}`;

  if (slackError === 'ratelimited' || slackError === 'rate_limited') {
    const retryAfterSeconds = error.data.response_metadata?.retryAfter;
    return new ConnectorError('slack', 'temporary', 'SLACK_RATE_LIMITED', `Slack rate limit reached on ${context.method}.`, {
      retryAfterMs: retryAfterSeconds !== undefined ? retryAfterSeconds * 1000 : null,
      cause: error,
    });
  }

  if (temporaryPlatformErrors.has(slackError)) {
    return new ConnectorError('slack', 'temporary', code, `Slack ${context.method} failed at Slack's end (${slackError}).`, {
      cause: error,
    });
  }

  const fix = platformErrorFixes[slackError];
  const message = fix
    ? fix(context, error.data)
    : `Slack rejected ${context.method} with ${slackError}. Check rule ${context.ruleId} and the Slack app's settings.`;
  if (tokenPlatformErrors.has(slackError)) {
    return new ConnectorError('slack', 'temporary', code, message, { cause: error, pausesConnector: true });
  }
  return new ConnectorError('slack', 'permanent', code, message, { cause: error });
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
