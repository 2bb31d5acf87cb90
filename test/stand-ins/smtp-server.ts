/**
 * A local SMTP server for tests that need failures the plain sink never gives. It replies to RCPT TO with 550 for
 * addresses starting with `reject` and 451 for addresses starting with `defer`, accepts the rest and parses them.
 * It counts connections, so tests can see that a pooled transport reuses them.
 */
import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface SmtpStandIn {
  url: string;
  messages: ParsedMail[];
  /** Raw messages as received, for checks on the header bytes. */
  raw: string[];
  connections: number;
  close(): Promise<void>;
}

export async function startSmtpStandIn(): Promise<SmtpStandIn> {
  const state: Omit<SmtpStandIn, 'url' | 'close'> = { messages: [], raw: [], connections: 0 };
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    logger: false,
    onConnect(_session, callback) {
      state.connections += 1;
      callback();
    },
    onRcptTo(address, _session, callback) {
      const mailbox = address.address.toLowerCase();
      if (mailbox.startsWith('reject')) {
        callback(Object.assign(new Error('5.1.1 mailbox unavailable'), { responseCode: 550 }));
        return;
      }
      if (mailbox.startsWith('defer')) {
        callback(Object.assign(new Error('4.2.0 try again later'), { responseCode: 451 }));
        return;
      }
      callback();
    },
    onData(stream, _session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks);
        simpleParser(raw)
          .then((mail) => {
            state.raw.push(raw.toString('utf8'));
            state.messages.push(mail);
            callback();
          })
          .catch((error: Error) => callback(error));
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  return Object.assign(state, {
    url: `smtp://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}
