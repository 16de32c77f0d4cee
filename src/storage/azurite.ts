import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

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

export type AzuriteService = 'table' | 'queue';

export interface RunningAzurite {
  connectionString: string;
  tablePort: number;
  queuePort: number;
  /** Where its data is kept (undefined: in memory). */
  location: string | undefined;
  /** The process id of a service, while it runs. */
  pid(service: AzuriteService): number | undefined;
  /** Called when a service exits without being asked to (killed, crashed). */
  onUnexpectedExit(listener: (service: AzuriteService, detail: string) => void): void;
  /** Starts a service again on the same port and data folder. */
  restart(service: AzuriteService): Promise<void>;
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

function azuriteBin(service: AzuriteService): string {
  const require = createRequire(import.meta.url);
  const pkgDir = path.dirname(require.resolve('azurite/package.json'));
  return path.join(pkgDir, 'dist', 'src', service, 'main.js');
}

/** Preloaded into each Azurite process: it shuts down (saving) when the app that started it is gone. */
const ORPHAN_GUARD = fileURLToPath(new URL('./azurite-guard.cjs', import.meta.url));

/** The folder a service keeps its data in. */
export function serviceDir(location: string, service: AzuriteService): string {
  return path.join(location, service);
}

function startOne(
  service: AzuriteService,
  host: string,
  port: number,
  location: string | undefined,
): Promise<ChildProcess> {
  const args = [
    '--require',
    ORPHAN_GUARD,
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
    const dir = serviceDir(location, service);
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
        child.off('exit', onEarlyExit);
        resolve(child);
      }
    };
    const onEarlyExit = (code: number | null) => {
      clearTimeout(timer);
      reject(new Error(`Azurite ${service} exited with code ${code}: ${out.slice(-500)}`));
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (b: Buffer) => {
      out += b.toString();
    });
    child.once('exit', onEarlyExit);
  });
}

const exited = (child: ChildProcess) => child.exitCode !== null || child.signalCode !== null;

function stopChild(child: ChildProcess): Promise<void> {
  if (exited(child)) return Promise.resolve();
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

/*
 * `<location>/azurite.pids.json` names the Azurite processes working on a data folder. If the app was
 * killed (kill -9), its Azurite lives on until the orphan guard notices; a new start waits for it to save
 * and exit rather than have two processes write one database.
 */
const pidFile = (location: string) => path.join(location, 'azurite.pids.json');

function isAzuriteOn(pid: number, location: string): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
    return cmd.includes('azurite') && cmd.includes(location);
  } catch {
    return false; // no /proc (not Linux): never signal a process we cannot identify
  }
}

async function stopLeftovers(location: string): Promise<void> {
  let pids: number[];
  try {
    pids = Object.values(JSON.parse(readFileSync(pidFile(location), 'utf8')) as Record<string, number>);
  } catch {
    return;
  }
  for (const pid of pids.filter((p) => Number.isInteger(p) && isAzuriteOn(p, location))) {
    process.kill(pid, 'SIGINT'); // it saves, then exits
    const end = Date.now() + 10_000;
    while (isAzuriteOn(pid, location) && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
    if (isAzuriteOn(pid, location)) process.kill(pid, 'SIGKILL');
  }
}

/** Starts Azurite's table and queue services as child processes on loopback. */
export async function startAzurite(opts: AzuriteOptions = {}): Promise<RunningAzurite> {
  const host = opts.host ?? '127.0.0.1';
  const location = opts.location;
  const ports: Record<AzuriteService, number> = {
    table: opts.tablePort ?? (await freePort(host)),
    queue: opts.queuePort ?? (await freePort(host)),
  };
  const children = new Map<AzuriteService, ChildProcess>();
  const listeners: ((service: AzuriteService, detail: string) => void)[] = [];
  let stopping = false;
  const kill = () => {
    for (const c of children.values()) if (!exited(c)) c.kill('SIGKILL');
  };
  const writePids = () => {
    if (!location) return;
    const pids = Object.fromEntries([...children].map(([s, c]) => [s, c.pid]));
    writeFileSync(pidFile(location), JSON.stringify(pids));
  };
  const launch = async (service: AzuriteService) => {
    const child = await startOne(service, host, ports[service], location);
    if (stopping) {
      await stopChild(child); // stop() was called while it started: it must not outlive the app
      throw new Error('Azurite is stopping');
    }
    children.set(service, child);
    writePids();
    child.once('exit', (code, signal) => {
      if (stopping || children.get(service) !== child) return;
      const detail = signal ? `killed by ${signal}` : `exited with code ${code}`;
      for (const l of listeners) l(service, detail);
    });
  };
  // A crash of the parent must not leave Azurite holding the ports.
  process.once('exit', kill);
  // A port found free can be taken by another process before Azurite binds it: a port we chose is chosen again.
  const launchFirst = async (service: AzuriteService) => {
    const ours = (service === 'table' ? opts.tablePort : opts.queuePort) === undefined;
    for (let attempt = 1; ; attempt++) {
      try {
        return await launch(service);
      } catch (err) {
        if (!ours || attempt >= 5 || stopping || !/EADDRINUSE/.test(err instanceof Error ? err.message : '')) throw err;
        ports[service] = await freePort(host);
      }
    }
  };
  try {
    if (location) await stopLeftovers(location);
    await launchFirst('table');
    await launchFirst('queue');
  } catch (err) {
    kill();
    process.off('exit', kill);
    throw err;
  }
  return {
    connectionString: devConnectionString(host, ports.table, ports.queue),
    tablePort: ports.table,
    queuePort: ports.queue,
    location,
    pid: (service) => {
      const c = children.get(service);
      return c && !exited(c) ? c.pid : undefined;
    },
    onUnexpectedExit: (listener) => {
      listeners.push(listener);
    },
    async restart(service) {
      if (stopping) throw new Error('Azurite is stopping');
      const old = children.get(service);
      if (old && !exited(old)) await stopChild(old);
      await launch(service);
    },
    async stop() {
      stopping = true;
      process.off('exit', kill);
      await Promise.all([...children.values()].map(stopChild));
      if (location) rmSync(pidFile(location), { force: true });
    },
  };
}
