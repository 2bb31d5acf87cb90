/** A loopback port that nothing listens on, for tests of refused connections. */
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';

/**
 * Returns a port on 127.0.0.1 that was free a moment ago: the system picks it, then the server closes again. Port 1
 * does not serve here, because fetch rejects it as a bad port before connecting.
 */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
