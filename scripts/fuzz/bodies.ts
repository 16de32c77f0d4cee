import { gzipSync } from 'node:zlib';

const CHUNK = 1024 * 1024;

/**
 * A gzip body that inflates to about `inflatedBytes` of a JSON activity whose text is one long run of "A".
 * Built from concatenated gzip members (RFC 1952 allows several), so a 1 GB bomb takes milliseconds to make.
 */
export function gzipBomb(inflatedBytes: number): Buffer {
  const head = '{"type":"message","id":"bomb","serviceUrl":"http://127.0.0.1:9/","from":{"id":"x"},"conversation":{"id":"c"},"text":"';
  const tail = '"}';
  const block = gzipSync(Buffer.alloc(CHUNK, 'A'), { level: 9 });
  const parts: Buffer[] = [gzipSync(head)];
  for (let left = inflatedBytes - head.length - tail.length; left > 0; left -= CHUNK) {
    parts.push(left >= CHUNK ? block : gzipSync(Buffer.alloc(left, 'A')));
  }
  parts.push(gzipSync(tail));
  return Buffer.concat(parts);
}
