import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createLogger, describeConnectionString } from '../src/log.js';

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { lines, stream };
}

describe('logging', () => {
  it('writes JSON lines with secrets and tokens redacted', () => {
    const { lines, stream } = capture();
    const log = createLogger('info', stream);
    log.info(
      {
        headers: { authorization: 'Bearer eyJhbGciOi.secret' },
        MicrosoftAppPassword: 'p@ss',
        config: { apiKey: 'sk-live-123', connectionString: 'AccountKey=abc' },
        corr: 'c-1',
      },
      'activity handled',
    );
    const line = JSON.parse(lines[0] ?? '{}');
    expect(line.corr).toBe('c-1');
    expect(JSON.stringify(line)).not.toMatch(/eyJhbGciOi|p@ss|sk-live-123|AccountKey=abc/);
    expect(line.headers.authorization).toBe('[redacted]');
  });

  it('redacts a secret nested three levels down, and in arrays', () => {
    const { lines, stream } = capture();
    const log = createLogger('info', stream);
    log.info(
      {
        outer: { middle: { inner: { password: 'deep-p@ss', keep: 'visible' } } },
        list: [{ nested: { token: 'tok-in-array' } }],
      },
      'nested',
    );
    const line = JSON.parse(lines[0] ?? '{}');
    expect(JSON.stringify(line)).not.toMatch(/deep-p@ss|tok-in-array/);
    expect(line.outer.middle.inner).toEqual({ password: '[redacted]', keep: 'visible' });
  });

  it('describes a storage account without its key', () => {
    const described = describeConnectionString(
      'DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=c2VjcmV0;TableEndpoint=https://acct.table.core.windows.net/',
    );
    expect(described).toContain('AccountName=acct');
    expect(described).not.toContain('c2VjcmV0');
  });

  it('loses no line written to standard output just before the process ends (exit, or an uncaught exception)', () => {
    // The default destination writes asynchronously: what is still buffered is flushed when the process ends.
    const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
    for (const ending of ['process.exit(3);', "throw new Error('broken state');"]) {
      const res = spawnSync(
        process.execPath,
        [
          '--import',
          'tsx',
          '--input-type=module',
          '-e',
          `import { createLogger } from './src/log.ts';
           const log = createLogger('info');
           for (let i = 0; i < 2000; i++) log.info({ i, padding: 'x'.repeat(200) }, 'line');
           ${ending}`,
        ],
        { cwd: root, encoding: 'utf8', timeout: 20_000, maxBuffer: 64 * 1024 * 1024 },
      );
      expect(res.status).not.toBe(0);
      const lines = res.stdout.trim().split('\n').map((l) => JSON.parse(l) as { i: number });
      expect(lines.map((l) => l.i)).toEqual(Array.from({ length: 2000 }, (_, i) => i));
    }
  });
});
