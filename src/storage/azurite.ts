import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import path from 'node:path';

/** Azurite's well-known development account; not a secret. */
export const DEV_ACCOUNT = 'devstoreaccount1';
export const DEV_KEY =
  'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

export interface AzuriteOptions {
  /** Keep data under this folder; omitted → in memory. */
  location?: string;
  tablePort?: number;
  queuePort?: number;
  host?: string;
}

export interface RunningAzurite {
  connectionString: string;
  tablePort: number;
  queuePort: number;
  stop(): Promise<void>;
}

export function devConnectionString(host: string, tablePort: number, queuePort: number): string {
  return [
    'DefaultEndpointsProtocol=http',
    `AccountName=${DEV_ACCOUNT}`,
    `AccountKey=${DEV_KEY}`,
    `TableEndpoint=http://${host}:${tablePort}/${DEV_ACCOUNT}`,
    `QueueEndpoint=http://${host}:${queuePort}/${DEV_ACCOUNT}`,
  ].join(';');
}

export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function azuriteBin(service: 'table' | 'queue'): string {
  const require = createRequire(import.meta.url);
  const pkgDir = path.dirname(require.resolve('azurite/package.json'));
  return path.join(pkgDir, 'dist', 'src', service, 'main.js');
}

function startOne(
  service: 'table' | 'queue',
  host: string,
  port: number,
  location: string | undefined,
): Promise<ChildProcess> {
  const args = [
    azuriteBin(service),
    `--${service}Host`,
    host,
    `--${service}Port`,
    String(port),
    '--silent',
    '--disableTelemetry',
    '--skipApiVersionCheck',
  ];
  if (location) {
    const dir = path.join(location, service);
    mkdirSync(dir, { recursive: true });
    args.push('--location', dir);
  } else {
    args.push('--inMemoryPersistence');
  }
  // Own process group: a terminal's Ctrl-C must not reach Azurite directly. We stop it ourselves, once,
  // after the app has finished writing (a second SIGINT would kill it mid-save).
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(`Azurite ${service} did not start within 20 s on ${host}:${port}: ${out.slice(-500)}`),
      );
    }, 20_000);
    const onData = (buf: Buffer) => {
      out += buf.toString();
      if (/successfully (started|listens)/.test(out)) {
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        child.stdout?.resume();
        child.stderr?.resume();
        resolve(child);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (b: Buffer) => {
      out += b.toString();
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`Azurite ${service} exited with code ${code}: ${out.slice(-500)}`));
    });
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    // Azurite's table service saves its database on SIGINT only; SIGTERM would drop the last seconds of writes.
    child.kill('SIGINT');
  });
}

/** Starts Azurite's table and queue services as child processes on loopback. */
export async function startAzurite(opts: AzuriteOptions = {}): Promise<RunningAzurite> {
  const host = opts.host ?? '127.0.0.1';
  const tablePort = opts.tablePort ?? (await freePort(host));
  const queuePort = opts.queuePort ?? (await freePort(host));
  const children: ChildProcess[] = [];
  const kill = () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  };
  // A crash of the parent must not leave Azurite holding the ports.
  process.once('exit', kill);
  try {
    children.push(await startOne('table', host, tablePort, opts.location));
    children.push(await startOne('queue', host, queuePort, opts.location));
  } catch (err) {
    kill();
    throw err;
  }
  return {
    connectionString: devConnectionString(host, tablePort, queuePort),
    tablePort,
    queuePort,
    async stop() {
      process.off('exit', kill);
      await Promise.all(children.map(stopChild));
    },
  };
}
