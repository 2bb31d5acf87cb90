/**
 * Reading a webhook request body into one Buffer, with a hard size limit. The ingress reads bodies itself, without
 * a framework body parser, so it has the exact bytes for the event id and parses the JSON only once.
 */
import type { IncomingMessage } from 'node:http';
import { promisify } from 'node:util';
import zlib from 'node:zlib';

/** A body that cannot be read. The ingress responds with `status` and counts the rejection under `reason`. */
export class RequestBodyError extends Error {
  override readonly name = 'RequestBodyError';

  constructor(
    readonly status: 400 | 413 | 415,
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

/** The client closed the connection before the body was complete, so no response can reach it. */
export class RequestAbortedError extends Error {
  override readonly name = 'RequestAbortedError';
}

const decoders: Record<string, (input: Buffer, options: zlib.ZlibOptions & zlib.BrotliOptions) => Promise<Buffer>> = {
  gzip: promisify(zlib.gunzip),
  'x-gzip': promisify(zlib.gunzip),
  deflate: promisify(zlib.inflate),
  br: promisify(zlib.brotliDecompress),
};

function tooLarge(limitBytes: number): RequestBodyError {
  return new RequestBodyError(413, 'body_too_large', `The body is larger than the limit of ${limitBytes} bytes.`);
}

/**
 * Reads the whole body of `req`, decoding `Content-Encoding` gzip, deflate or br.
 *
 * Rejects with RequestBodyError 413 as soon as the body, encoded or decoded, exceeds `limitBytes`, and 415 for
 * another content encoding. Rejects with RequestAbortedError when the client aborts. After a 413 the rest of the
 * body is discarded as it arrives, so the response can still be written. The caller should close the connection.
 */
export async function readRequestBody(req: IncomingMessage, limitBytes: number): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limitBytes) {
    req.resume();
    throw tooLarge(limitBytes);
  }

  const encoding = (req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  const decode = encoding === 'identity' || encoding === '' ? null : decoders[encoding];
  if (decode === undefined) {
    req.resume();
    throw new RequestBodyError(415, 'unsupported_encoding', `Content-Encoding "${encoding}" is not supported; send identity, gzip, deflate or br.`);
  }

  const raw = await collect(req, limitBytes);
  if (!decode || raw.length === 0) return raw;
  try {
    return await decode(raw, { maxOutputLength: limitBytes });
  } catch (error) {
    if (error instanceof RangeError || (error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw tooLarge(limitBytes);
    }
    throw new RequestBodyError(400, 'invalid_encoding', `The body is not valid ${encoding} data.`);
  }
}

function collect(req: IncomingMessage, limitBytes: number): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;

    const onData = (chunk: Buffer): void => {
      if (settled) return;
      size += chunk.length;
      if (size > limitBytes) {
        settled = true;
        chunks.length = 0;
        reject(tooLarge(limitBytes));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      if (settled) return;
      settled = true;
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    };
    const onAbort = (): void => {
      if (settled) return;
      settled = true;
      reject(new RequestAbortedError('the client closed the connection before sending the whole body'));
    };

    req.on('data', onData);
    req.once('end', onEnd);
    req.once('error', onAbort);
    req.once('close', onAbort);
  });
}
