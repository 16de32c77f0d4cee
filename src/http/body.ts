import type { IncomingMessage } from 'node:http';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import type { Transform } from 'node:stream';

/**
 * Reads a JSON request body with its size bounded AFTER decompression: a 1 MB gzip body can inflate to 1 GB,
 * so the inflated bytes are counted as they stream out of zlib and reading stops at the limit — nothing past
 * it is ever held. Compressed bodies stay accepted (gzip, deflate, br): refusing them would break any proxy
 * or client that compresses, and bounding them costs nothing more than counting.
 */

export interface BodyLimits {
  /** Largest body, on the wire and after decoding. */
  maxBytes: number;
  /** Deepest nesting of arrays/objects (an activity needs about ten). */
  maxDepth: number;
}

export type BodyRefusal = {
  ok: false;
  status: 400 | 413 | 415;
  error: 'BadRequest' | 'PayloadTooLarge' | 'UnsupportedMediaType';
  message: string;
  /** Extra fields for the JSON answer (e.g. how far the body was read). */
  details?: Record<string, number | string>;
  headers?: Record<string, string>;
};
export type BodyResult = { ok: true; value: unknown } | BodyRefusal;

export const ACCEPTED_ENCODINGS = 'gzip, deflate, br';

/** After a refusal the rest of an upload is read and dropped up to this much, then the socket is closed. */
const DISCARD_LIMIT = 8 * 1024 * 1024;

export function readJsonBody(req: IncomingMessage, limits: BodyLimits): Promise<BodyResult> {
  const type = mediaType(req.headers['content-type']);
  if (type && type !== 'application/json' && !type.endsWith('+json')) {
    return Promise.resolve(
      refuse(415, 'UnsupportedMediaType', `the body must be application/json (got ${type.slice(0, 60)})`),
    );
  }
  const encoding = String(req.headers['content-encoding'] ?? '')
    .trim()
    .toLowerCase();
  let decoder: Transform | undefined;
  if (encoding === 'gzip' || encoding === 'x-gzip') decoder = createGunzip();
  else if (encoding === 'deflate') decoder = createInflate();
  else if (encoding === 'br') decoder = createBrotliDecompress();
  else if (encoding !== '' && encoding !== 'identity') {
    const refusal = refuse(
      415,
      'UnsupportedMediaType',
      `content encoding "${encoding.slice(0, 40)}" is not supported; use ${ACCEPTED_ENCODINGS} or none`,
    );
    refusal.headers = { 'accept-encoding': ACCEPTED_ENCODINGS };
    return Promise.resolve(refusal);
  }
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limits.maxBytes) {
    discardRest(req);
    return Promise.resolve(tooLarge(limits.maxBytes, { declaredBytes: declared }));
  }

  return new Promise<BodyResult>((resolve) => {
    const chunks: Buffer[] = [];
    let wireBytes = 0;
    let bodyBytes = 0;
    let settled = false;
    const settle = (result: BodyResult) => {
      if (settled) return;
      settled = true;
      if (decoder) {
        decoder.removeAllListeners('data');
        decoder.on('error', () => {}); // anything it still reports is about bytes nobody wants
        decoder.destroy();
      }
      chunks.length = 0;
      if (!result.ok) discardRest(req);
      resolve(result);
    };
    const take = (chunk: Buffer) => {
      if (settled) return;
      bodyBytes += chunk.length;
      if (bodyBytes > limits.maxBytes) {
        settle(tooLarge(limits.maxBytes, decoder ? { inflatedBytesRead: bodyBytes } : {}));
        return;
      }
      chunks.push(chunk);
    };
    const finish = () => {
      if (settled) return;
      const text = new TextDecoder('utf-8').decode(Buffer.concat(chunks, bodyBytes));
      settle(parseJson(text, limits.maxDepth));
    };

    if (decoder) {
      decoder.on('data', take);
      decoder.once('end', finish);
      decoder.once('error', () =>
        settle(refuse(400, 'BadRequest', `the body is not valid ${encoding} data`)),
      );
    }
    req.on('data', (chunk: Buffer) => {
      if (settled) return;
      wireBytes += chunk.length;
      if (wireBytes > limits.maxBytes) {
        settle(tooLarge(limits.maxBytes, {}));
        return;
      }
      if (decoder) decoder.write(chunk);
      else take(chunk);
    });
    req.once('end', () => {
      if (decoder) decoder.end();
      else finish();
    });
    req.once('error', () => settle(refuse(400, 'BadRequest', 'the request body could not be read')));
    req.once('aborted', () => settle(refuse(400, 'BadRequest', 'the request was aborted')));
  });
}

/** JSON.parse, then a depth check done with a stack of its own (no recursion for a deeply nested body). */
function parseJson(text: string, maxDepth: number): BodyResult {
  if (!text.trim()) return { ok: true, value: undefined };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return refuse(400, 'BadRequest', `the body is not valid JSON: ${(err as Error).message.slice(0, 120)}`);
  }
  if (depthOver(value, maxDepth)) {
    return refuse(400, 'BadRequest', `the body is nested deeper than ${maxDepth} levels`);
  }
  return { ok: true, value };
}

function depthOver(root: unknown, maxDepth: number): boolean {
  const stack: [unknown, number][] = [[root, 1]];
  while (stack.length) {
    const [node, depth] = stack.pop()!;
    if (!node || typeof node !== 'object') continue;
    if (depth > maxDepth) return true;
    for (const child of Array.isArray(node) ? node : Object.values(node)) {
      if (child && typeof child === 'object') stack.push([child, depth + 1]);
    }
  }
  return false;
}

function mediaType(header: string | undefined): string {
  return (header ?? '').split(';')[0]!.trim().toLowerCase();
}

function refuse(status: BodyRefusal['status'], error: BodyRefusal['error'], message: string): BodyRefusal {
  return { ok: false, status, error, message };
}

function tooLarge(limit: number, details: Record<string, number>): BodyRefusal {
  return {
    ...refuse(413, 'PayloadTooLarge', `the body is larger than ${limit} bytes (after decompression)`),
    details: { limitBytes: limit, ...details },
  };
}

/** Drops what is left of a refused upload without keeping it; a sender that goes on and on is cut off. */
function discardRest(req: IncomingMessage): void {
  let dropped = 0;
  req.removeAllListeners('data');
  req.on('data', (chunk: Buffer) => {
    dropped += chunk.length;
    if (dropped > DISCARD_LIMIT) req.destroy();
  });
  req.resume();
}
