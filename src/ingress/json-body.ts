/**
 * Checks shared by every webhook route: the media type must be JSON, and the body valid UTF-8 JSON. The body is
 * parsed once here; later steps reuse the parsed value.
 */
import { isUtf8 } from 'node:buffer';
import { RequestBodyError } from './request-body.js';

const utf8Bom = Buffer.from([0xef, 0xbb, 0xbf]);

/**
 * Rejects with RequestBodyError 415 unless `contentType` is `application/json` or `application/<anything>+json`.
 * A `charset` parameter is accepted when it names UTF-8, the only encoding JSON allows between systems; other
 * parameters are ignored.
 */
export function assertJsonMediaType(contentType: string | undefined): void {
  const [type = '', ...parameters] = (contentType ?? '').split(';');
  const mediaType = type.trim().toLowerCase();
  if (mediaType !== 'application/json' && !/^application\/[\w.-]+\+json$/.test(mediaType)) {
    throw new RequestBodyError(
      415,
      'unsupported_media_type',
      `Content-Type must be application/json; got "${mediaType || 'none'}".`,
    );
  }
  for (const parameter of parameters) {
    const [name = '', value = ''] = parameter.split('=');
    if (name.trim().toLowerCase() !== 'charset') continue;
    const charset = value.trim().replace(/^"(.*)"$/, '$1').toLowerCase();
    if (charset !== 'utf-8' && charset !== 'utf8') {
      throw new RequestBodyError(415, 'unsupported_charset', `JSON must be sent as UTF-8; got charset "${charset}".`);
    }
  }
}

/** Removes a leading UTF-8 byte order mark, which JSON.parse would reject. Returns `body` itself when there is none. */
export function withoutBom(body: Buffer): Buffer {
  return body.length >= 3 && body[0] === utf8Bom[0] && body[1] === utf8Bom[1] && body[2] === utf8Bom[2]
    ? body.subarray(3)
    : body;
}

/**
 * Decodes and parses a JSON body. Rejects with RequestBodyError 400 when the bytes are not valid UTF-8 (decoding
 * would silently replace them) or not valid JSON. Returns the text as well, which is what the queue stores.
 */
export function parseJsonBody(body: Buffer): { text: string; value: unknown } {
  if (!isUtf8(body)) {
    throw new RequestBodyError(400, 'invalid_utf8', 'The body is not valid UTF-8.');
  }
  const text = body.toString('utf8');
  try {
    return { text, value: JSON.parse(text) };
  } catch (error) {
    throw new RequestBodyError(400, 'invalid_json', `The body is not valid JSON: ${(error as Error).message}.`);
  }
}
