import { randomBytes } from 'node:crypto';
import { odata, type TableClient } from '@azure/data-tables';
import type { Clock } from '../clock.js';
import { collect, deleteIfThere, isNotFound, type Tables } from '../storage/tables.js';

/** A file not yet expired, as `forget` looks for the person's. */
export interface LiveFile {
  token: string;
  createdBy: string;
  filename: string;
  expiresAt: string;
}

/** A file made for one user to download once or a few times, then gone. */
export interface ExportFile {
  filename: string;
  contentType: string;
  content: string;
  createdBy: string;
  expiresAt: string;
}

/** Table properties hold at most 64 KiB; UTF-16 makes that 32K characters. */
const CHUNK = 30_000;

/*
 * Table `Exports`: PK = the download token (256 random bits), RK = 'meta' or a zero-padded chunk number.
 * Any instance can serve a download, so a file made on one instance is not lost behind a load balancer.
 * Reading a token is one partition query; an expired token reads as missing (and is deleted then).
 * PK = '~expires', RK = `<expiresAt ISO>~<token>`: every file by expiry, so the expiry job deletes unread
 * files without scanning the table (`sweepExpired`).
 */
const EXPIRES = '~expires';
export class ExportStore {
  private constructor(
    private readonly table: TableClient,
    private readonly clock: Clock,
  ) {}

  static async open(tables: Tables, clock: Clock): Promise<ExportStore> {
    return new ExportStore(await tables.table('Exports'), clock);
  }

  readonly name = 'exports';

  async save(
    file: Omit<ExportFile, 'expiresAt'>,
    ttlMs = 3_600_000,
  ): Promise<{ token: string; expiresAt: string }> {
    const token = randomBytes(32).toString('hex');
    const expiresAt = new Date(this.clock.now().getTime() + ttlMs).toISOString();
    const chunks: string[] = [];
    for (let i = 0; i < file.content.length; i += CHUNK) chunks.push(file.content.slice(i, i + CHUNK));
    // Expiry row first, so even a save cut short is deleted in time; then chunks; meta last: a token is
    // readable only once its whole content is stored.
    await this.table.createEntity({ partitionKey: EXPIRES, rowKey: `${expiresAt}~${token}`, token });
    for (let i = 0; i < chunks.length; i += 100) {
      await this.table.submitTransaction(
        chunks
          .slice(i, i + 100)
          .map((text, j) => [
            'create',
            { partitionKey: token, rowKey: String(i + j).padStart(6, '0'), text },
          ]),
      );
    }
    await this.table.createEntity({
      partitionKey: token,
      rowKey: 'meta',
      filename: file.filename,
      contentType: file.contentType,
      createdBy: file.createdBy,
      expiresAt,
      chunks: chunks.length,
    });
    return { token, expiresAt };
  }

  async read(token: string): Promise<ExportFile | undefined> {
    if (!/^[0-9a-f]{64}$/.test(token)) return undefined;
    const rows = await collect(
      this.table.listEntities<Record<string, unknown>>({
        queryOptions: { filter: `PartitionKey eq '${token}'` },
      }),
    );
    const meta = rows.find((r) => r.rowKey === 'meta');
    if (!meta) return undefined;
    if (String(meta.expiresAt) <= this.clock.now().toISOString()) {
      await Promise.all(rows.map((r) => this.table.deleteEntity(token, String(r.rowKey)).catch(() => {})));
      return undefined;
    }
    const chunks = rows
      .filter((r) => r.rowKey !== 'meta')
      .sort((a, b) => String(a.rowKey).localeCompare(String(b.rowKey)));
    if (chunks.length !== Number(meta.chunks)) return undefined;
    return {
      filename: String(meta.filename),
      contentType: String(meta.contentType),
      createdBy: String(meta.createdBy),
      expiresAt: String(meta.expiresAt),
      content: chunks.map((c) => String(c.text)).join(''),
    };
  }

  /**
   * The files still live (they last an hour, so few), with who made each: the expiry rows not yet due, then
   * each one's meta row.
   */
  async liveFiles(): Promise<LiveFile[]> {
    const live = await collect(
      this.table.listEntities<{ token: string }>({
        queryOptions: { filter: odata`PartitionKey eq ${EXPIRES} and RowKey ge ${this.clock.now().toISOString()}`, select: ['token'] },
      }),
    );
    const out: LiveFile[] = [];
    for (const row of live) {
      const token = String(row.token);
      const meta = await this.table.getEntity<{ createdBy: string; filename: string; expiresAt: string }>(token, 'meta').catch((err: unknown) => {
        if (isNotFound(err)) return undefined;
        throw err;
      });
      if (meta) out.push({ token, createdBy: String(meta.createdBy), filename: String(meta.filename), expiresAt: String(meta.expiresAt) });
    }
    return out;
  }

  /** Deletes a file now: its meta row first, so its link stops working at once; then its chunks. */
  async remove(token: string): Promise<void> {
    await deleteIfThere(this.table, token, 'meta');
    const rows = await collect(this.table.listEntities({ queryOptions: { filter: odata`PartitionKey eq ${token}`, select: ['RowKey'] } }));
    for (const r of rows) await deleteIfThere(this.table, token, String(r.rowKey));
  }

  /** Deletes up to `limit` files that expired before `now` (read or not), oldest first; returns how many. */
  async sweepExpired(now: Date, limit: number): Promise<number> {
    const due = await collect(
      this.table.listEntities<{ token: string }>({
        queryOptions: { filter: odata`PartitionKey eq ${EXPIRES} and RowKey lt ${now.toISOString()}` },
      }),
      limit,
    );
    for (const row of due) {
      const token = String(row.token);
      const rows = await collect(
        this.table.listEntities({ queryOptions: { filter: odata`PartitionKey eq ${token}`, select: ['RowKey'] } }),
      );
      for (let i = 0; i < rows.length; i += 100) {
        const keys = rows.slice(i, i + 100).map((r) => String(r.rowKey));
        await this.table
          .submitTransaction(keys.map((rowKey) => ['delete', { partitionKey: token, rowKey }]))
          .catch(async (err: unknown) => {
            // A download of the expired link deleted some rows meanwhile: delete the rest one by one.
            if (!isNotFound(err)) throw err;
            for (const rowKey of keys) await deleteIfThere(this.table, token, rowKey);
          });
      }
      await deleteIfThere(this.table, EXPIRES, String(row.rowKey));
    }
    return due.length;
  }

}
