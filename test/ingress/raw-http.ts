/**
 * HTTP requests written byte for byte on a TCP socket, for what fetch refuses to send: a header twice, raw UTF-8
 * bytes in a header value, a chunked body without Content-Length.
 */
import net from 'node:net';

export interface RawResponse {
  status: number;
  /** Header lines of the response, names lower-cased. */
  headers: Map<string, string>;
  body: string;
}

/**
 * Sends one request to `url` (an http://host:port base) and reads the response until the server closes the connection.
 * `headers` are written as given, in order, so a name may repeat; values may hold any bytes.
 */
export function rawRequest(
  url: string,
  options: { method?: string; path: string; headers: [string, string | Buffer][]; body?: Buffer | string; chunked?: boolean },
): Promise<RawResponse> {
  const { hostname, port } = new URL(url);
  const body = typeof options.body === 'string' ? Buffer.from(options.body, 'utf8') : (options.body ?? Buffer.alloc(0));
  const parts: Buffer[] = [Buffer.from(`${options.method ?? 'POST'} ${options.path} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nConnection: close\r\n`)];
  for (const [name, value] of options.headers) {
    parts.push(Buffer.from(`${name}: `), typeof value === 'string' ? Buffer.from(value, 'latin1') : value, Buffer.from('\r\n'));
  }
  if (options.chunked) {
    parts.push(Buffer.from('Transfer-Encoding: chunked\r\n\r\n'));
    for (let start = 0; start < body.length; start += 1024) {
      const chunk = body.subarray(start, start + 1024);
      parts.push(Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n'));
    }
    parts.push(Buffer.from('0\r\n\r\n'));
  } else {
    parts.push(Buffer.from(`Content-Length: ${body.length}\r\n\r\n`), body);
  }

  return new Promise<RawResponse>((resolve, reject) => {
    const socket = net.connect(Number(port), hostname);
    const received: Buffer[] = [];
    socket.on('data', (chunk) => received.push(chunk));
    // The server may respond and close before reading a rejected body to the end, so write errors are ignored.
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE' && error.code !== 'ECONNRESET') reject(error);
    });
    socket.on('close', () => {
      const text = Buffer.concat(received).toString('latin1');
      const headerEnd = text.indexOf('\r\n\r\n');
      if (headerEnd === -1) {
        reject(new Error(`no complete HTTP response received: ${JSON.stringify(text.slice(0, 200))}`));
        return;
      }
      const [statusLine = '', ...lines] = text.slice(0, headerEnd).split('\r\n');
      const headers = new Map<string, string>();
      for (const line of lines) {
        const colon = line.indexOf(':');
        headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
      }
      resolve({ status: Number(statusLine.split(' ')[1]), headers, body: text.slice(headerEnd + 4) });
    });
    socket.write(Buffer.concat(parts));
  });
}
