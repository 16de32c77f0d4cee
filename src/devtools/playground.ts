import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

/** The Agents Playground's built-in users (its default config), used for demo roles in local mode. */
export const PLAYGROUND_USERS = {
  alex: { id: 'user-id-0', aadObjectId: '00000000-0000-0000-0000-0000000000020', name: 'Alex Wilber' },
  megan: { id: 'user-id-1', aadObjectId: '00000000-0000-0000-0000-0000000000021', name: 'Megan Bowen' },
  adele: { id: 'user-id-2', aadObjectId: '00000000-0000-0000-0000-0000000000022', name: 'Adele Vance' },
} as const;

export interface RunningPlayground {
  url: string;
  port: number;
  stop(): Promise<void>;
}

/**
 * Starts the Microsoft 365 Agents Playground (a local Teams-like client) pointed at the bot, offline,
 * telemetry off. It picks another port silently when the asked one is taken, so the real one is parsed.
 */
export async function startPlayground(opts: {
  botEndpoint: string;
  port?: number;
  workDir: string;
}): Promise<RunningPlayground> {
  const require = createRequire(import.meta.url);
  const cli = path.join(
    path.dirname(require.resolve('@microsoft/m365agentsplayground/package.json')),
    'cli.js',
  );
  mkdirSync(opts.workDir, { recursive: true });
  const child: ChildProcess = spawn(
    process.execPath,
    [cli, '-e', opts.botEndpoint, '-c', 'msteams', '--disable-telemetry', '-p', String(opts.port ?? 56150)],
    {
      cwd: opts.workDir,
      env: { ...process.env, TEAMSAPPTESTER_BROWSER: 'none' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const kill = () => {
    if (child.exitCode === null) child.kill('SIGKILL');
  };
  process.once('exit', kill);
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      kill();
      reject(new Error(`Agents Playground did not start within 30 s: ${out.slice(-400)}`));
    }, 30_000);
    const onData = (b: Buffer) => {
      out += b.toString();
      const m = /Listening on (\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        child.stdout?.resume();
        resolve(Number(m[1]));
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (b: Buffer) => {
      out += b.toString();
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`Agents Playground exited with code ${code}: ${out.slice(-400)}`));
    });
  });
  return {
    port,
    url: `http://localhost:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        process.off('exit', kill);
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        const t = setTimeout(() => child.kill('SIGKILL'), 3_000);
        child.once('exit', () => {
          clearTimeout(t);
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}
