/**
 * Admin authentication: the HUB_ADMIN_TOKEN as a bearer token, compared in constant time. Browsers may also send a
 * session cookie set by `POST /admin/login`, for Bull Board, which cannot add a header to its own requests. The
 * cookie contains an HMAC of the token rather than the token itself, and is HttpOnly and SameSite=Strict so that other
 * sites cannot use it.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, RequestHandler, Response } from 'express';

export const sessionCookieName = 'hub_admin_session';

/** Paths the session cookie is sent to: the admin page, its login and Bull Board. */
const cookiePath = '/admin';

/** How long a browser keeps the session cookie, in seconds. */
const sessionMaxAgeSeconds = 12 * 3600;

const unauthorized = {
  error: 'Missing or invalid admin token. Send "Authorization: Bearer <HUB_ADMIN_TOKEN>", or sign in on the admin page at /admin/.',
  code: 'ADMIN_UNAUTHORIZED',
};

/** Compares two strings in time that depends on neither content, by comparing their SHA-256 digests. */
export function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** Returns the session cookie value for `token`: an HMAC, so a stolen cookie does not reveal the token. */
export function sessionValue(token: string): string {
  return createHmac('sha256', token).update('hub admin session v1').digest('hex');
}

function bearerToken(req: Request): string | null {
  const header = req.get('authorization');
  if (!header) return null;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match ? match[1]! : null;
}

function cookieValue(req: Request, name: string): string | null {
  const header = req.get('cookie');
  if (!header) return null;
  for (const part of header.split(';')) {
    const separator = part.indexOf('=');
    if (separator < 0) continue;
    if (part.slice(0, separator).trim() === name) return part.slice(separator + 1).trim();
  }
  return null;
}

/** Returns whether the request carries the admin token, or (when `acceptCookie`) a valid session cookie. */
export function isAdmin(req: Request, token: string, acceptCookie: boolean): boolean {
  const bearer = bearerToken(req);
  if (bearer !== null) return sameSecret(bearer, token);
  if (!acceptCookie) return false;
  const cookie = cookieValue(req, sessionCookieName);
  return cookie !== null && sameSecret(cookie, sessionValue(token));
}

/**
 * Creates middleware that responds 401 unless the request is an admin's. The API accepts only the bearer token, so
 * a page on another site cannot make a browser call it with the cookie.
 */
export function requireAdmin(token: string, options: { acceptCookie: boolean }): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    if (isAdmin(req, token, options.acceptCookie)) {
      next();
      return;
    }
    res.setHeader('WWW-Authenticate', 'Bearer realm="hub-admin"');
    res.status(401).json(unauthorized);
  };
}

function cookie(req: Request, value: string, maxAgeSeconds: number): string {
  const secure = req.secure ? '; Secure' : '';
  return `${sessionCookieName}=${value}; Path=${cookiePath}; Max-Age=${maxAgeSeconds}; HttpOnly; SameSite=Strict${secure}`;
}

/**
 * Creates the `POST /admin/login` handler: it takes the token as a bearer header or as `token` in a JSON or form
 * body, and sets the session cookie when the token is right.
 */
export function loginHandler(token: string): RequestHandler {
  return (req: Request, res: Response) => {
    const body = (req.body ?? {}) as { token?: unknown };
    const given = bearerToken(req) ?? (typeof body.token === 'string' ? body.token : null);
    if (given === null || !sameSecret(given, token)) {
      res.setHeader('WWW-Authenticate', 'Bearer realm="hub-admin"');
      res.status(401).json(unauthorized);
      return;
    }
    res.setHeader('Set-Cookie', cookie(req, sessionValue(token), sessionMaxAgeSeconds));
    res.status(204).end();
  };
}

/** Creates the `POST /admin/logout` handler, which removes the session cookie. */
export function logoutHandler(): RequestHandler {
  return (req: Request, res: Response) => {
    res.setHeader('Set-Cookie', cookie(req, '', 0));
    res.status(204).end();
  };
}
