/** The HTTP server of the API role: started on the ingress's request listener, stopped without dropping requests. */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/** Default time that in-flight requests get to finish when the server stops, in milliseconds. */
export const defaultDrainMs = 10_000;

/** State that stopping a server started here needs: its open connections and the latest response of each. */
interface ServerState {
  connections: Set<Socket>;
  /** The response of each connection's latest request, set per request because a listener per request cost more. */
  responses: WeakMap<Socket, ServerResponse>;
  stopping: boolean;
}

const serverStates = new WeakMap<Server, ServerState>();

/**
 * Makes the response close its connection once sent. A client that reused a connection the stop is about to close
 * would see its next request fail.
 */
function closeAfterResponse(res: ServerResponse): void {
  if (!res.headersSent) res.shouldKeepAlive = false;
}

/** Starts an HTTP server on `host:port` (0 for any free port) and resolves once it listens. */
export function startIngressServer(
  handleRequest: (req: IncomingMessage, res: ServerResponse) => void,
  port: number,
  host: string,
): Promise<Server> {
  return new Promise<Server>((resolve, reject) => {
    const state: ServerState = { connections: new Set(), responses: new WeakMap(), stopping: false };
    const server = createServer((req, res) => {
      state.responses.set(req.socket, res);
      if (state.stopping) closeAfterResponse(res);
      handleRequest(req, res);
    });
    serverStates.set(server, state);
    server.on('connection', (socket: Socket) => {
      state.connections.add(socket);
      socket.once('close', () => state.connections.delete(socket));
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
function closeIdleConnections(server: Server, state: ServerState | undefined): void {
  server.closeIdleConnections();
  // Node 20's closeIdleConnections() counts a connection as busy from the moment it opens, so it skips a client
  // that connected and sent nothing.
  for (const socket of state?.connections ?? []) {
    if (socket.bytesRead === 0) socket.destroy();
  }
}

/**
 * Stops taking connections at once, lets requests in flight finish, then resolves. Connections that carry no
 * request are closed at once, and the others as soon as their response, sent with `Connection: close`, is out.
 * Requests still running after `drainMs` milliseconds are cut off.
 */
export async function stopIngressServer(server: Server, drainMs = defaultDrainMs): Promise<void> {
  const state = serverStates.get(server);
  if (state) {
    state.stopping = true;
    for (const socket of state.connections) {
      const res = state.responses.get(socket);
      if (res) closeAfterResponse(res);
    }
  }
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  closeIdleConnections(server, state);
  // A connection becomes idle only after its response, which may be written after close() was called.
  const idleSweep = setInterval(() => closeIdleConnections(server, state), 50);
  const deadline = setTimeout(() => server.closeAllConnections(), drainMs);
  try {
    await closed;
  } finally {
    clearInterval(idleSweep);
    clearTimeout(deadline);
  }
}
