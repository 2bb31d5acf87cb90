/**
 * A local receiver of signed webhooks on 127.0.0.1. It records every request with its headers and body, and responds
 * with 200 unless a test queued other responses (a status, a Retry-After, a delay).
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedWebhook {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface WebhookAnswer {
  status: number;
  body?: string;
  retryAfter?: string;
  /** Delay before the response, in ms. */
  delayMs?: number;
}

export interface WebhookReceiver {
  /** Base URL, such as http://127.0.0.1:40123. */
  url: string;
  received: ReceivedWebhook[];
  /** Queues responses for the next requests, in order. */
  answerNext(...answers: WebhookAnswer[]): void;
  close(): Promise<void>;
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const received: ReceivedWebhook[] = [];
  const answers: WebhookAnswer[] = [];

  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({ path: request.url ?? '/', headers: request.headers, body: Buffer.concat(chunks).toString('utf8') });
      const answer = answers.shift() ?? { status: 200, body: '{"ok":true}' };
      const reply = () => {
        const headers: Record<string, string> = { 'content-type': 'application/json' };
        if (answer.retryAfter) headers['retry-after'] = answer.retryAfter;
        response.writeHead(answer.status, headers);
        response.end(answer.body ?? '');
      };
      if (answer.delayMs) setTimeout(reply, answer.delayMs);
      else reply();
    });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    answerNext: (...next) => answers.push(...next),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
