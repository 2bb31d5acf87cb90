/**
 * The unsubscribe page behind the link and the List-Unsubscribe header of every client email.
 *
 * GET shows a page with one button and changes nothing, because mail scanners open links on their own. POST records
 * the opt-out: the button's form and the one-click request that mail providers send per RFC 8058 (a POST with the
 * body `List-Unsubscribe=One-Click`). The opt-out is kept in the mirror even for a client not mirrored yet, and every
 * email delivery rereads the client before sending, so deliveries already queued are skipped too.
 */
import express, { type Request, type Response, type Router } from 'express';
import type { Logger } from '../logger.js';
import type { Store } from '../mirror/store.js';
import { unsubscribePath, verifyUnsubscribeToken } from './unsubscribe-token.js';

export interface UnsubscribeRouterOptions {
  store: Store;
  /** UNSUBSCRIBE_SECRET. Without it, the router responds 404 to every request. */
  secret: string | null;
  logger: Logger;
}

const page = (title: string, body: string): string =>
  [
    '<!doctype html><html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${title}</title></head>`,
    '<body style="font-family:sans-serif;max-width:480px;margin:48px auto;padding:0 16px">',
    `<h1 style="font-size:1.4em">${title}</h1>${body}</body></html>`,
  ].join('');

function tokenOf(request: Request): string {
  const value = request.query.token;
  return typeof value === 'string' ? value : '';
}

/** Builds the router serving GET and POST /unsubscribe?token=…. */
export function createUnsubscribeRouter(options: UnsubscribeRouterOptions): Router {
  const router = express.Router();
  const { store, secret, logger } = options;

  const invalid = (response: Response): void => {
    response
      .status(400)
      .type('html')
      .send(page('This unsubscribe link is not valid', '<p>The link may be cut short. Open it again from the email, or reply to the email and ask to be removed.</p>'));
  };

  router.get(unsubscribePath, (request, response) => {
    if (!secret) {
      response.status(404).type('text').send('Unsubscribe links are turned off on this hub.');
      return;
    }
    const token = tokenOf(request);
    if (!verifyUnsubscribeToken(secret, token)) {
      invalid(response);
      return;
    }
    // The token goes back in the form action, already URL-safe: it contains only base64url characters and a dot.
    const form =
      `<p>Stop receiving listing emails at this address?</p>` +
      `<form method="post" action="${unsubscribePath}?token=${token}">` +
      '<input type="hidden" name="List-Unsubscribe" value="One-Click">' +
      '<button type="submit" style="font-size:1em;padding:8px 16px">Unsubscribe</button></form>';
    response.type('html').send(page('Unsubscribe', form));
  });

  router.post(unsubscribePath, express.urlencoded({ extended: false, limit: '4kb' }), async (request, response) => {
    if (!secret) {
      response.status(404).type('text').send('Unsubscribe links are turned off on this hub.');
      return;
    }
    const clientId = verifyUnsubscribeToken(secret, tokenOf(request));
    if (!clientId) {
      logger.info({ path: request.path }, 'unsubscribe rejected: invalid token');
      invalid(response);
      return;
    }

    try {
      await store.recordOptOut(clientId, new Date().toISOString());
    } catch (error) {
      logger.error({ clientId, err: error }, 'opt-out not recorded');
      response.status(503).type('html').send(page('Please try again', '<p>The hub could not record your request just now. Please try again in a minute.</p>'));
      return;
    }
    const oneClick = (request.body as Record<string, unknown> | undefined)?.['List-Unsubscribe'] === 'One-Click';
    logger.info({ clientId, oneClick }, 'client opted out of email');
    response.type('html').send(page('You are unsubscribed', '<p>You will get no more listing emails from us at this address.</p>'));
  });

  return router;
}
