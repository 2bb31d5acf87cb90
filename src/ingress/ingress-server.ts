/** The HTTP server of the API role: started on the ingress's request listener, stopped without dropping requests. */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/** Default time that in-flight requests get to finish when the server stops, in milliseconds. */
export const defaultDrainMs = 10_000;

/** The open connections of each server started here, so that stopping it can find the ones that sent nothing. */
const openConnections = new WeakMap<Server, Set<Socket>>();

/** Starts an HTTP server on `host:port` (0 for any free port) and resolves once it listens. */
export function startIngressServer(
  handleRequest: (req: IncomingMessage, res: ServerResponse) => void,
  port: number,
  host: string,
): Promise<Server> {
  return new Promise<Server>((resolve, reject) => {
    const server = createServer(handleRequest);
    const connections = new Set<Socket>();
    openConnections.set(server, connections);
    server.on('connection', (socket: Socket) => {
      connections.add(socket);
      socket.once('close', () => connections.delete(socket));
    });
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

/**
 * Closes the connections of `server` that carry no request: keep-alive connections idle after their response, and
 * connections that have not sent a byte. A connection that has sent part of a request is kept, so the request can finish.
 */
function closeIdleConnections(server: Server): void {
  server.closeIdleConnections();
  // Node 20's closeIdleConnections() counts a connection as busy from the moment it opens, so it skips a client
  // that connected and sent nothing.
  for (const socket of openConnections.get(server) ?? []) {
    if (socket.bytesRead === 0) socket.destroy();
  }
}

/**
 * Stops taking connections at once, lets requests in flight finish, then resolves. Connections that carry no
 * request are closed at once, and keep-alive connections as soon as their response is sent. Requests still running
 * after `drainMs` milliseconds are cut off.
 */
export async function stopIngressServer(server: Server, drainMs = defaultDrainMs): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  closeIdleConnections(server);
  // A connection becomes idle only after its response, which may be written after close() was called.
  const idleSweep = setInterval(() => closeIdleConnections(server), 50);
  const deadline = setTimeout(() => server.closeAllConnections(), drainMs);
  try {
    await closed;
  } finally {
    clearInterval(idleSweep);
    clearTimeout(deadline);
  }
}
