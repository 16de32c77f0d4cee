import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Runs a small program in its own node process (tsx), as the app runs: its exit code and output. */
function run(program: string) {
  const res = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', program], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 20_000,
  });
  return { code: res.status, stdout: res.stdout, stderr: res.stderr };
}

const rejectLater = `
  Promise.reject(new Error('a send nobody awaited failed'));
  setTimeout(() => { console.log('still serving'); }, 100);
`;

describe('guardUnhandledRejections', () => {
  it('keeps the process running after an unhandled rejection and logs it as one JSON line', () => {
    const res = run(`
      import { guardUnhandledRejections } from './src/http/process-guard.ts';
      import { createLogger } from './src/log.ts';
      guardUnhandledRejections(createLogger('info'));
      ${rejectLater}
    `);
    expect(res.code).toBe(0);
    const lines = res.stdout.trim().split('\n');
    expect(lines.at(-1)).toBe('still serving');
    const logged = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(logged).toMatchObject({ level: 50, msg: 'unhandled promise rejection (kept running)' });
    expect(JSON.stringify(logged.err)).toContain('a send nobody awaited failed');
  });

  it('is needed: without it node ends the process', () => {
    const res = run(rejectLater);
    expect(res.code).not.toBe(0);
    expect(res.stdout).not.toContain('still serving');
  });
});
