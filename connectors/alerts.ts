/**
 * Alerts to an admin when a connector stops working as a whole (an exhausted API limit, a revoked grant). Every
 * alert is logged at error level. It is also posted to ALERT_SLACK_CHANNEL and mailed to ALERT_EMAIL when those are
 * set, at most once per connector and error code within ALERT_INTERVAL_SECONDS across all hub processes. Without the
 * Slack token or SMTP URL that a channel needs, the alert is written to the outbox folder `alerts/` instead.
 */
import { LogLevel, WebClient } from '@slack/web-api';
import type { Redis } from 'ioredis';
import nodemailer from 'nodemailer';
import type { Logger } from '../src/logger.js';
import { parseSmtpUrl } from './email/smtp-url.js';
import { writeOutboxFile } from './outbox.js';

export interface AlertSettings {
  slackChannel: string | null;
  email: string | null;
  /** At most one alert per connector and code within this many seconds; 0 sends every alert. */
  intervalSeconds: number;
  slackToken: string | null;
  slackApiUrl: string | null;
  smtpUrl: string | null;
  mailFrom: string;
  outboxDir: string;
}

export interface Alert {
  connector: string;
  code: string;
  /** Description of what happened and what to do, in sentences. */
  message: string;
}

export interface Alerter {
  /** Logs the alert and sends it to the configured channels, unless the same alert went out within the interval. */
  raise(alert: Alert): Promise<void>;
}

export function createAlerter(settings: AlertSettings, redis: Redis, prefix: string, logger: Logger): Alerter {
  async function claimSlot(alert: Alert): Promise<{ claimed: boolean; suppressed: number }> {
    if (settings.intervalSeconds === 0) return { claimed: true, suppressed: 0 };
    const key = `${prefix}:alert:${alert.connector}:${alert.code}`;
    const counter = `${key}:suppressed`;
    const claimed = await redis.set(key, new Date().toISOString(), 'EX', settings.intervalSeconds, 'NX');
    if (claimed !== 'OK') {
      await redis.incr(counter);
      await redis.expire(counter, settings.intervalSeconds * 4);
      return { claimed: false, suppressed: 0 };
    }
    const suppressed = Number((await redis.getdel(counter)) ?? 0);
    return { claimed: true, suppressed };
  }

  async function postToSlack(channel: string, text: string): Promise<void> {
    if (!settings.slackToken) {
      await writeOutboxFile(settings.outboxDir, 'alerts', `slack-${Date.now()}`, 'json', `${JSON.stringify({ channel, text }, null, 2)}\n`);
      return;
    }
    const client = new WebClient(settings.slackToken, {
      slackApiUrl: settings.slackApiUrl ?? undefined,
      retryConfig: { retries: 0 },
      timeout: 10_000,
      logLevel: LogLevel.ERROR,
    });
    await client.chat.postMessage({ channel, text });
  }

  async function mail(to: string, subject: string, text: string): Promise<void> {
    if (!settings.smtpUrl) {
      await writeOutboxFile(settings.outboxDir, 'alerts', `email-${Date.now()}`, 'json', `${JSON.stringify({ to, subject, text }, null, 2)}\n`);
      return;
    }
    const transport = nodemailer.createTransport(parseSmtpUrl(settings.smtpUrl));
    try {
      await transport.sendMail({ from: settings.mailFrom, to, subject, text });
    } finally {
      transport.close();
    }
  }

  return {
    async raise(alert) {
      logger.error({ connector: alert.connector, code: alert.code, reason: alert.message }, 'connector alert');
      if (!settings.slackChannel && !settings.email) return;

      let slot: { claimed: boolean; suppressed: number };
      try {
        slot = await claimSlot(alert);
      } catch (error) {
        logger.error({ connector: alert.connector, code: alert.code, err: error }, 'alert not sent');
        return;
      }
      if (!slot.claimed) {
        logger.info({ connector: alert.connector, code: alert.code }, 'alert suppressed within the alert interval');
        return;
      }

      const repeats = slot.suppressed > 0 ? ` (${slot.suppressed} more alerts like this were held back since the last one)` : '';
      const subject = `Hub alert from the ${alert.connector} connector: ${alert.code}`;
      const text = `${subject}${repeats}\n\n${alert.message}`;
      const sends: Promise<void>[] = [];
      if (settings.slackChannel) sends.push(postToSlack(settings.slackChannel, text));
      if (settings.email) sends.push(mail(settings.email, subject, text));

      for (const result of await Promise.allSettled(sends)) {
        if (result.status === 'rejected') {
          logger.error({ connector: alert.connector, code: alert.code, err: result.reason }, 'alert not sent');
        }
      }
    },
  };
}
