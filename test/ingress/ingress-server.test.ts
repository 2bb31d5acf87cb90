/**
 * stopIngressServer on a real HTTP server with raw TCP clients: connections that carry no request are closed at
 * once, while a request in flight still gets its response before the stop resolves.
 */
import type { Server } from 'node:http';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startIngressServer, stopIngressServer } from '../../src/ingress/ingress-server.js';

// Longer than the test timeout, so a connection left for the deadline to cut fails the test instead of passing late.
const drainMs = 60_000;

/** A raw client connection with everything it has received so far. */
interface Client {
  socket: net.Socket;
  received: string;
  closed: Promise<void>;
}

let server: Server | undefined;
const clients: Client[] = [];
/** The server's end of each connection, seen through its 'connection' event. */
const serverSockets: net.Socket[] = [];

/** Holds each `/slow` request until the test calls `releaseSlow()`. */
let releaseSlow: () => void = () => {};
let slowArrived: Promise<void> = Promise.resolve();

async function startServer(): Promise<number> {
  let markArrived: () => void = () => {};
  slowArrived = new Promise((resolve) => (markArrived = resolve));
  const released = new Promise<void>((resolve) => (releaseSlow = resolve));
  server = await startIngressServer(
    (req, res) => {
      if (req.url !== '/slow') {
        res.end('fast');
        return;
      }
      markArrived();
      void released.then(() => res.end('slow'));
    },
    0,
    '127.0.0.1',
  );
  server.on('connection', (socket: net.Socket) => serverSockets.push(socket));
  return (server.address() as net.AddressInfo).port;
}

async function connect(port: number): Promise<Client> {
  const socket = net.connect(port, '127.0.0.1');
  socket.setEncoding('latin1');
  const client: Client = {
    socket,
    received: '',
    closed: new Promise<void>((resolve) => socket.once('close', () => resolve())),
  };
  socket.on('data', (chunk: string) => (client.received += chunk));
  // A reset from the server also ends in a close event, which is what the assertions check.
  socket.on('error', () => {});
  clients.push(client);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return client;
}

/** Resolves once `client` has received `text`, or rejects after `timeoutMs`. */
function receive(client: Client, text: string, timeoutMs = 10_000): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const deadline = setTimeout(() => reject(new Error(`"${text}" not received; got ${JSON.stringify(client.received)}`)), timeoutMs);
    const check = (): void => {
      if (!client.received.includes(text)) return;
      clearTimeout(deadline);
      client.socket.off('data', check);
      resolve();
    };
    client.socket.on('data', check);
    check();
  });
}

/**
 * Resolves once the server has closed `client`'s connection. Rejects well before `drainMs`, so a connection left
 * for the deadline fails with this message.
 */
function closedByServer(client: Client, timeoutMs = 20_000): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const deadline = setTimeout(() => reject(new Error(`the server kept the connection open for ${timeoutMs} ms after the stop`)), timeoutMs);
    void client.closed.then(() => {
      clearTimeout(deadline);
      resolve();
    });
  });
}

/** Resolves once the server's end of `client`'s connection has read at least one byte. */
async function serverReadFrom(client: Client): Promise<void> {
  const localPort = client.socket.localPort;
  for (let attempt = 0; attempt < 200; attempt += 1) {
    const serverSide = serverSockets.find((socket) => socket.remotePort === localPort);
    if (serverSide && serverSide.bytesRead > 0) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`the server read nothing from the connection of local port ${localPort} within 2 s`);
}

/** Sends a GET of `path` that keeps the connection open after the response. */
function sendGet(client: Client, path: string): void {
  client.socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
}

/** Tracks whether `promise` has settled, without awaiting it. */
function track(promise: Promise<void>): { settled: boolean } {
  const state = { settled: false };
  void promise.finally(() => (state.settled = true));
  return state;
}

afterEach(async () => {
  for (const client of clients.splice(0)) client.socket.destroy();
  serverSockets.length = 0;
  releaseSlow();
  if (server?.listening) await stopIngressServer(server, 1000);
  server = undefined;
});

describe('stopIngressServer', () => {
  it('closes a silent connection at once', async () => {
    const port = await startServer();
    const silent = await connect(port);
    const inFlight = await connect(port);
    sendGet(inFlight, '/slow');
    await slowArrived;

    const stopped = stopIngressServer(server!, drainMs);
    const stopState = track(stopped);
    await closedByServer(silent);

    expect(silent.received).toBe('');
    expect(inFlight.socket.destroyed).toBe(false);
    expect(inFlight.received).toBe('');
    expect(stopState.settled).toBe(false);

    releaseSlow();
    await receive(inFlight, 'slow');
    expect(inFlight.received).toMatch(/^HTTP\/1\.1 200 OK/);
    await stopped;
  });

  it('tells a client in flight not to reuse the connection', async () => {
    const port = await startServer();
    const inFlight = await connect(port);
    sendGet(inFlight, '/slow');
    await slowArrived;

    const stopped = stopIngressServer(server!, drainMs);
    releaseSlow();
    await receive(inFlight, 'slow');

    expect(inFlight.received).toMatch(/\r\nConnection: close\r\n/i);
    await closedByServer(inFlight);
    await stopped;
  });

  it('closes an idle keep-alive connection at once', async () => {
    const port = await startServer();
    const idle = await connect(port);
    sendGet(idle, '/fast');
    await receive(idle, 'fast');
    const inFlight = await connect(port);
    sendGet(inFlight, '/slow');
    await slowArrived;

    const stopped = stopIngressServer(server!, drainMs);
    await closedByServer(idle);

    expect(inFlight.socket.destroyed).toBe(false);
    expect(inFlight.received).toBe('');

    releaseSlow();
    await receive(inFlight, 'slow');
    await stopped;
  });

  it('finishes a request partly sent at stop', async () => {
    const port = await startServer();
    const partial = await connect(port);
    partial.socket.write('GET /fast HTTP/1.1\r\nHo');
    // The server must have read the first bytes before the stop, or it could not tell this connection from a
    // silent one.
    await serverReadFrom(partial);
    const idle = await connect(port);
    sendGet(idle, '/fast');
    await receive(idle, 'fast');

    const stopped = stopIngressServer(server!, drainMs);
    await closedByServer(idle);
    expect(partial.socket.destroyed).toBe(false);

    partial.socket.write('st: 127.0.0.1\r\n\r\n');
    await receive(partial, 'fast');
    expect(partial.received).toMatch(/^HTTP\/1\.1 200 OK/);
    await stopped;
  });
});
