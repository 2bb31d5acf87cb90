/**
 * A real SMTP server (smtp-server) for drills, with the faults a mail relay shows: it can go down, dropping every
 * open connection and refusing new ones, come back on the same port, and reply slowly. Every accepted message is
 * counted under the delivery key of its `X-Hub-Delivery` header.
 */
import type { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { SMTPServer } from 'smtp-server';
import type { ArrivalLedger } from './arrival-ledger.js';

export interface DrillSmtpServer {
  url: string;
  port: number;
  /** Messages accepted, including repeats. */
  accepted(): number;
  /** Messages accepted without an `X-Hub-Delivery` header; the hub sends none such, so this stays 0. */
  unkeyed(): number;
  /** The Message-ID of every accepted copy of the delivery `key`, in order of arrival. */
  messageIdsOf(key: string): string[];
  /** Stops listening and destroys every open connection, as a relay that crashed. */
  down(): Promise<void>;
  /** Listens again on the same port. */
  up(): Promise<void>;
  /** Delays the reply to each message's data by this many ms (0: reply at once). */
  setReplyDelay(ms: number): void;
  close(): Promise<void>;
}

/** Reads the value of one header from the header block of a raw message; headers the hub sets are never folded. */
function headerValue(raw: string, name: string): string | null {
  const end = raw.indexOf('\r\n\r\n');
  const head = end === -1 ? raw : raw.slice(0, end);
  const match = new RegExp(`^${name}:[ \\t]*(\\S+)`, 'im').exec(head);
  return match ? match[1]! : null;
}

/**
 * Starts the server on a free port of 127.0.0.1. A message counts as arrived when the server accepts it (the moment
 * it replies 250), which is when a real relay takes responsibility for it. A message whose connection closed before
 * that reply, such as one from a killed worker during a slow reply, is not counted.
 */
export async function startDrillSmtpServer(ledger: ArrivalLedger): Promise<DrillSmtpServer> {
  let replyDelayMs = 0;
  let acceptedCount = 0;
  let unkeyedCount = 0;
  const sockets = new Set<Socket>();
  /** Sessions whose connection closed; a message whose connection closed before the reply was never accepted. */
  const closedSessions = new Set<string>();
  const messageIds = new Map<string, string[]>();

  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    logger: false,
    // smtp-server waits 100 ms before greeting by default (an early-talker guard). The delay is kept, as a real relay
    // has one, and nodemailer pays it once per pooled connection.
    onClose(session) {
      closedSessions.add(session.id);
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const finish = () => {
          if (closedSessions.has(session.id)) return;
          const key = headerValue(raw, 'X-Hub-Delivery');
          acceptedCount += 1;
          if (key) {
            ledger.arrive(key, 'email');
            messageIds.set(key, [...(messageIds.get(key) ?? []), headerValue(raw, 'Message-ID') ?? '(none)']);
          } else {
            unkeyedCount += 1;
          }
          callback();
        };
        if (replyDelayMs > 0) void sleep(replyDelayMs).then(finish);
        else finish();
      });
    },
  });
  server.server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as { port: number }).port;

  const listen = () =>
    new Promise<void>((resolve, reject) => {
      server.server.once('error', reject);
      server.server.listen(port, '127.0.0.1', () => {
        server.server.off('error', reject);
        resolve();
      });
    });

  return {
    url: `smtp://127.0.0.1:${port}`,
    port,
    accepted: () => acceptedCount,
    unkeyed: () => unkeyedCount,
    messageIdsOf: (key) => messageIds.get(key) ?? [],
    async down() {
      // The net server is closed directly: SMTPServer.close() would wait up to 30 s for clients to leave.
      const closed = new Promise<void>((resolve) => server.server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
    up: listen,
    setReplyDelay(ms) {
      replyDelayMs = ms;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      if (server.server.listening) await new Promise<void>((resolve) => server.server.close(() => resolve()));
    },
  };
}
