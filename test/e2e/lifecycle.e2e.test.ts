import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { ConversationStore } from '../../src/conversations/store.js';
import { devConnectionString, freePort } from '../../src/storage/azurite.js';
import { Tables } from '../../src/storage/tables.js';
import { activity, USERS } from '../support/app.js';

interface Started {
  child: ChildProcess;
  tablePort: number;
  queuePort: number;
  output: () => string;
}

/** `npm start` as a newcomer runs it, on free ports and a data folder of its own. */
async function start(dataDir: string, port: number, playgroundPort: number): Promise<Started> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: {
      ...process.env,
      NODE_ENV: 'development',
      PORT: String(port),
      PLAYGROUND_PORT: String(playgroundPort),
      DATA_DIR: dataDir,
      ROLLOUT_TEAM_IDS: USERS.lead.aadObjectId,
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (b: Buffer) => {
    out += b.toString();
  });
  child.stderr?.on('data', (b: Buffer) => {
    out += b.toString();
  });
  const end = Date.now() + 45_000;
  while (!out.includes('Agents Playground:')) {
    if (child.exitCode !== null) throw new Error(`exited early: ${out}`);
    if (Date.now() > end) throw new Error(`did not start: ${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const m = /"tablePort":(\d+),"queuePort":(\d+)/.exec(out);
  return { child, tablePort: Number(m?.[1]), queuePort: Number(m?.[2]), output: () => out };
}

async function interrupt(s: Started): Promise<number | null> {
  s.child.kill('SIGINT');
  return new Promise((resolve) => s.child.once('exit', (code) => resolve(code)));
}

function processesUsing(dir: string): string {
  try {
    return execFileSync('pgrep', ['-af', dir]).toString().trim();
  } catch {
    return ''; // pgrep exits 1 when nothing matches
  }
}

async function listening(url: string): Promise<boolean> {
  try {
    await fetch(url, { signal: AbortSignal.timeout(1_000) });
    return true;
  } catch {
    return false;
  }
}

describe('npm start', () => {
  it('keeps data in its data folder across restarts and leaves no process behind on Ctrl-C', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'rd-data-'));
    const port = await freePort();
    const playgroundPort = await freePort();

    const first = await start(dataDir, port, playgroundPort);
    expect(first.output()).toContain('LOCAL, unauthenticated');
    const res = await fetch(`http://127.0.0.1:${port}/api/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(
        activity(USERS.lead, {
          text: 'setup announcements',
          conversation: { id: '19:news@thread.tacv2', conversationType: 'channel', tenantId: 't' },
          channelData: { team: { id: '19:team@thread.tacv2' } },
        }),
      ),
    });
    expect(res.status).toBe(200);
    expect(await interrupt(first)).toBe(0);
    expect(processesUsing(dataDir)).toBe('');
    expect(await listening(`http://127.0.0.1:${playgroundPort}/`)).toBe(false);
    expect(await listening(`http://127.0.0.1:${port}/healthz`)).toBe(false);

    const second = await start(dataDir, port, playgroundPort);
    try {
      const tables = new Tables(devConnectionString('127.0.0.1', second.tablePort, second.queuePort));
      const store = await ConversationStore.open(tables, new ManualClock());
      expect((await store.channelFor('announcements'))?.conversationId).toBe('19:news@thread.tacv2');
    } finally {
      expect(await interrupt(second)).toBe(0);
    }
    expect(processesUsing(dataDir)).toBe('');
  }, 120_000);
});
