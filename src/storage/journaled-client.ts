import type { TableClient, TableEntity, TransactionAction } from '@azure/data-tables';
import { StorageUnavailableError } from './call-policy.js';
import type { DeleteOp, EncodedEntity, EncodedValue, JournalOp, PutOp, TableJournal } from './journal.js';

type Entity = TableEntity<object>;

/**
 * A TableClient whose writes are journaled (journal.ts) before they return. Reads and everything else
 * pass straight through; callers see the same TableClient.
 */
export function journaled(client: TableClient, journal: TableJournal): TableClient {
  const table = client.tableName;
  const locks = journal.locks;
  const keyOf = (pk: string, rk: string) => `${table}\u0000${pk}\u0000${rk}`;

  const write = async <R>(keys: string[], call: () => Promise<R>, op: () => JournalOp): Promise<R> => {
    const record = op(); // before the call: a value that cannot be journaled is refused, not half-done
    return locks.run(keys, async () => {
      const result = await call();
      try {
        await journal.append(table, record);
      } catch (err) {
        // Azurite has it in memory, but it could not be made safe: the caller must not count on it.
        throw new StorageUnavailableError('the write could not be journaled to disk', { cause: err });
      }
      return result;
    });
  };

  const overrides: Partial<TableClient> = {
    createTable: (options) => write([], () => client.createTable(options), () => ({ k: 'table' })),
    createEntity: (entity, options) =>
      write(
        [keyOf(entity.partitionKey, entity.rowKey)],
        () => client.createEntity(entity, options),
        () => put(entity, 'Replace'),
      ),
    upsertEntity: (entity, mode = 'Merge', options) =>
      write(
        [keyOf(entity.partitionKey, entity.rowKey)],
        () => client.upsertEntity(entity, mode, options),
        () => put(entity, mode),
      ),
    updateEntity: (entity, mode = 'Merge', options) =>
      write(
        [keyOf(entity.partitionKey, entity.rowKey)],
        () => client.updateEntity(entity, mode, options),
        () => put(entity, mode),
      ),
    deleteEntity: (partitionKey, rowKey, options) =>
      write(
        [keyOf(partitionKey, rowKey)],
        () => client.deleteEntity(partitionKey, rowKey, options),
        () => ({ k: 'del', pk: partitionKey, rk: rowKey }),
      ),
    submitTransaction: (actions, options) =>
      write(
        actions.map((a) => keyOf(a[1].partitionKey, a[1].rowKey)),
        () => client.submitTransaction(actions, options),
        () => ({ k: 'tx', ops: actions.map(actionOp) }),
      ),
  };

  return new Proxy(client, {
    get(target, prop) {
      if (Object.hasOwn(overrides, prop)) return overrides[prop as keyof TableClient];
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** A transaction action as the set-operation it amounts to once it succeeded. */
function actionOp(action: TransactionAction): PutOp | DeleteOp {
  const [kind, entity] = action;
  if (kind === 'delete') return { k: 'del', pk: entity.partitionKey, rk: entity.rowKey };
  if (kind === 'create') return put(entity, 'Replace');
  return put(entity, action[2] ?? 'Merge');
}

function put(entity: Entity, mode: 'Merge' | 'Replace'): PutOp {
  return { k: 'put', mode, e: encodeEntity(entity) };
}

/**
 * An entity as JSON that the SDK serialises exactly as it did the original: typed values (DateTime,
 * Int64, Binary) become the SDK's `{value, type}` form; the ETag is a condition, not data.
 */
export function encodeEntity(entity: Entity): EncodedEntity {
  const out: Record<string, EncodedValue> = {};
  for (const [name, value] of Object.entries(entity)) {
    if (name === 'etag' || name === 'odata.metadata' || value === undefined) continue;
    out[name] = encodeValue(value);
  }
  return out as EncodedEntity;
}

function encodeValue(value: unknown): EncodedValue {
  if (value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')
    return value;
  if (typeof value === 'bigint') return { value: value.toString(), type: 'Int64' };
  if (value instanceof Date) return { value: value.toISOString(), type: 'DateTime' };
  if (value instanceof Uint8Array) return { value: Buffer.from(value).toString('base64'), type: 'Binary' };
  if (typeof value === 'object' && 'type' in value && 'value' in value) {
    const typed = value as { value: unknown; type: string };
    const inner = typed.value instanceof Date ? typed.value.toISOString() : typed.value;
    if (typeof inner === 'string' || typeof inner === 'number' || typeof inner === 'boolean')
      return { value: inner, type: typed.type };
  }
  throw new Error(`cannot journal a table property of this kind: ${Object.prototype.toString.call(value)}`);
}
