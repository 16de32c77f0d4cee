/**
 * Preloaded into the app by `npm run bench:load` (node --import): counts the app's storage requests (to
 * Azurite or a Storage account) by HTTP method, with the time each took, and prints the totals as one line
 * `STORAGE_CALLS {json}` on stderr when the process gets SIGUSR2, then `STORAGE_TARGETS {json}`: the same by
 * method and table or queue (`POST Dedupe`, `GET bench1Issues`, `$batch` for a transaction), then
 * `STORAGE_TARGET_MS {json}`: the ms spent per target. Nothing else changes.
 */
import http from 'node:http';
import https from 'node:https';
import { syncBuiltinESMExports } from 'node:module';

const totals: Record<string, { count: number; ms: number }> = {};
const targets: Record<string, number> = {};
/** ms spent per target (a table's calls slowing as it fills shows here). */
const targetMs: Record<string, number> = {};

/** The table or queue a request is for: the first path segment after the account, without `(keys)` or `()`. */
function targetOf(options: unknown): string {
  const o = options as { path?: string; href?: string; pathname?: string } | string | URL;
  const text = typeof o === 'string' ? o : o instanceof URL ? o.pathname : (o.path ?? '');
  const segments = text.split('?')[0]!.split('/').filter(Boolean);
  const i = segments.indexOf('devstoreaccount1');
  const first = segments[i >= 0 ? i + 1 : 0] ?? '';
  return first.replace(/\(.*$/, '');
}

function isStorage(options: unknown): boolean {
  const o = options as { path?: string; host?: string; hostname?: string; href?: string } | string | URL;
  const text = typeof o === 'string' ? o : o instanceof URL ? o.href : `${o.hostname ?? o.host ?? ''}${o.path ?? ''}`;
  return /devstoreaccount1|\.table\.core\.windows\.net|\.queue\.core\.windows\.net/.test(text);
}

for (const mod of [http, https]) {
  const original = mod.request;
  mod.request = function request(this: unknown, ...args: unknown[]) {
    const req = (original as (...a: unknown[]) => http.ClientRequest).apply(this, args);
    if (!isStorage(args[0])) return req;
    const started = process.hrtime.bigint();
    const method = req.method;
    const target = `${method} ${targetOf(args[0])}`;
    req.once('response', (res) => {
      res.once('end', () => {
        const entry = (totals[method] ??= { count: 0, ms: 0 });
        const ms = Number(process.hrtime.bigint() - started) / 1e6;
        entry.count++;
        entry.ms += ms;
        targets[target] = (targets[target] ?? 0) + 1;
        targetMs[target] = (targetMs[target] ?? 0) + ms;
      });
    });
    return req;
  } as typeof mod.request;
}
syncBuiltinESMExports();

process.on('SIGUSR2', () => {
  process.stderr.write(
    `STORAGE_CALLS ${JSON.stringify(totals)}\nSTORAGE_TARGETS ${JSON.stringify(targets)}\nSTORAGE_TARGET_MS ${JSON.stringify(targetMs)}\n`,
  );
});
