/** The HTTP server of the API role: started on the ingress's request listener, stopped without dropping requests. */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

/** Default time that in-flight requests get to finish when the server stops, in milliseconds. */
export const defaultDrainMs = 10_000;

/** Starts an HTTP server on `host:port` (0 for any free port) and resolves once it listens. */
export function startIngressServer(
  handleRequest: (req: IncomingMessage, res: ServerResponse) => void,
  port: number,
  host: string,
): Promise<Server> {
  return new Promise<Server>((resolve, reject) => {
    const server = createServer(handleRequest);
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

/**
 * Stops taking connections at once, lets requests in flight finish, then resolves. Keep-alive connections are
 * closed as soon as they are idle. Requests still running after `drainMs` milliseconds are cut off.
 */
export async function stopIngressServer(server: Server, drainMs = defaultDrainMs): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  // A connection becomes idle only after its response, which may be written after close() was called.
  const idleSweep = setInterval(() => server.closeIdleConnections(), 50);
  const deadline = setTimeout(() => server.closeAllConnections(), drainMs);
  try {
    await closed;
  } finally {
    clearInterval(idleSweep);
    clearTimeout(deadline);
  }
}
