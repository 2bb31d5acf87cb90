/** Reading SMTP_URL into nodemailer transport options. */

/**
 * Turns `smtp://user:pass@host:port` into nodemailer options; `smtps://` means TLS from the first byte (port 465 by
 * default). `?ignoreTLS=true` keeps nodemailer from upgrading with STARTTLS, for local catchers that offer it badly.
 */
export function parseSmtpUrl(smtpUrl: string) {
  const url = new URL(smtpUrl);
  const secure = url.protocol === 'smtps:';
  const defaultPort = secure ? 465 : 25;
  return {
    host: url.hostname,
    port: url.port ? Number(url.port) : defaultPort,
    secure,
    auth: url.username ? { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } : undefined,
    ignoreTLS: url.searchParams.get('ignoreTLS') === 'true',
  };
}
