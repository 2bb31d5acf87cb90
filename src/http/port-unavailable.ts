/** Error for a server that could not listen on its port: in use, or not allowed for this user. */
export class PortUnavailableError extends Error {
  override readonly name = 'PortUnavailableError';
}
