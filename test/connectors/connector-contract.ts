/**
 * The behaviour every connector must share, as one suite that each connector's test file runs: previews render
 * without sending, outbox mode writes one file per delivery key and overwrites it on a repeat, a live send returns
 * a receipt from the service (a local stand-in), and failures are ConnectorErrors with a kind and a stable code.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConnectorError, type Connector, type Delivery } from '../../connectors/connector.js';

/** A way to make the next live send fail, and the error it must produce. */
export interface ContractFailure {
  name: string;
  /** Prepares the stand-in (or the delivery) so that sending `delivery` fails. */
  arrange(delivery: Delivery): Promise<Delivery> | Delivery;
  kind: 'temporary' | 'permanent';
  code: string;
}

export interface ConnectorContractSubject {
  name: string;
  /** The file extension of outbox files, without the dot. */
  outboxExtension: string;
  /** A delivery this connector can send; `key` differs between calls when a suffix is given. */
  delivery(keySuffix?: string): Delivery;
  /** Starts the local stand-in and returns a live connector pointed at it. Called before each live case. */
  startLive(): Promise<Connector>;
  /** Stops what `startLive` started. */
  stopLive(): Promise<void>;
  /** Returns how many messages the stand-in has accepted so far. */
  acceptedCount(): number;
  /** Builds the connector without service settings, writing to `outboxDir`. */
  outbox(outboxDir: string): Connector;
  failures: ContractFailure[];
}

async function caught(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => null,
    (error: unknown) => error,
  );
}

export function describeConnectorContract(subject: ConnectorContractSubject): void {
  describe(`${subject.name} connector contract`, () => {
    describe('outbox mode', () => {
      let outboxDir: string;
      let connector: Connector;

      beforeEach(async () => {
        outboxDir = await mkdtemp(path.join(os.tmpdir(), `${subject.name}-contract-`));
        connector = subject.outbox(outboxDir);
      });

      afterEach(async () => {
        await connector.close();
        await rm(outboxDir, { recursive: true, force: true });
      });

      it('says where messages go', () => {
        expect(connector.mode).toBe('outbox');
        expect(connector.name).toBe(subject.name);
        expect(connector.describe()).toContain(outboxDir);
      });

      // The start-up line is meant to be copied into a shell, so every connector prints its folder the same way.
      it('prints a folder outside the current one absolute', () => {
        const folder = path.join(outboxDir, subject.name);
        expect(path.relative(process.cwd(), folder).startsWith(`..${path.sep}`)).toBe(true);

        expect(connector.describe()).toContain(` ${folder}${path.sep}`);
      });

      for (const [form, outboxSetting] of [
        ['relative', path.join('data', 'contract-outbox')],
        ['absolute', path.join(process.cwd(), 'data', 'contract-outbox')],
      ] as const) {
        it(`prints a folder under the current one relative, given ${form}`, async () => {
          const underCwd = subject.outbox(outboxSetting);
          try {
            const text = underCwd.describe();

            expect(text).toContain(` ${path.join('data', 'contract-outbox', subject.name)}${path.sep}`);
            expect(text).not.toContain(process.cwd());
          } finally {
            await underCwd.close();
          }
        });
      }

      it('writes one file per key', async () => {
        const first = subject.delivery('a');
        const second = subject.delivery('b');

        const receipt = await connector.send(first);
        await connector.send(second);

        expect(receipt).toEqual({ id: path.join(outboxDir, subject.name, `${first.key}.${subject.outboxExtension}`), outbox: true });
        expect((await readdir(path.join(outboxDir, subject.name))).sort()).toEqual(
          [`${first.key}.${subject.outboxExtension}`, `${second.key}.${subject.outboxExtension}`].sort(),
        );
      });

      it('overwrites the file on a repeat', async () => {
        const delivery = subject.delivery('a');
        await connector.send(delivery);
        const changed = { ...delivery, listing: delivery.listing ? { ...delivery.listing, address: '99 Changed Street, Ottawa' } : null };

        const receipt = await connector.send(changed);

        expect(await readdir(path.join(outboxDir, subject.name))).toEqual([`${delivery.key}.${subject.outboxExtension}`]);
        expect(await readFile(receipt.id, 'utf8')).toContain('99 Changed Street');
      });

      it('preview renders without writing', async () => {
        const preview = connector.preview(subject.delivery());

        expect(preview.connector).toBe(subject.name);
        expect(preview.target.length).toBeGreaterThan(0);
        expect(`${preview.subject ?? ''}\n${preview.text}`).toContain('62 Erin Crescent');
        await expect(readdir(path.join(outboxDir, subject.name))).rejects.toThrow();
      });

      it('unknown template is a permanent ConnectorError', async () => {
        const delivery = subject.delivery();
        const wrong = { ...delivery, action: { ...delivery.action, template: 'no-such-template' } };

        const error = await caught(connector.send(wrong));

        expect(error).toBeInstanceOf(ConnectorError);
        expect((error as ConnectorError).kind).toBe('permanent');
        expect((error as ConnectorError).connector).toBe(subject.name);
        expect((error as ConnectorError).code).toMatch(/^[A-Z]+_UNKNOWN_TEMPLATE$/);
      });
    });

    describe('live mode', () => {
      let connector: Connector;

      beforeEach(async () => {
        connector = await subject.startLive();
      });

      afterEach(async () => {
        await connector.close();
        await subject.stopLive();
      });

      it('send returns a receipt', async () => {
        const before = subject.acceptedCount();

        const receipt = await connector.send(subject.delivery());

        expect(receipt.outbox).toBe(false);
        expect(receipt.id.length).toBeGreaterThan(0);
        expect(subject.acceptedCount()).toBe(before + 1);
      });

      it('preview sends nothing', () => {
        const before = subject.acceptedCount();

        const preview = connector.preview(subject.delivery());

        expect(preview.connector).toBe(subject.name);
        expect(subject.acceptedCount()).toBe(before);
      });

      for (const failure of subject.failures) {
        it(`${failure.name} is ${failure.kind} ${failure.code}`, async () => {
          const delivery = await failure.arrange(subject.delivery());

          const error = await caught(connector.send(delivery));

          expect(error).toBeInstanceOf(ConnectorError);
          const connectorError = error as ConnectorError;
          expect(connectorError.connector).toBe(subject.name);
          expect(connectorError.kind).toBe(failure.kind);
          expect(connectorError.code).toBe(failure.code);
          expect(connectorError.message.length).toBeGreaterThan(20);
        });
      }
    });
  });
}
