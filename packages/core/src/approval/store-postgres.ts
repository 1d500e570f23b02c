/**
 * The approval store for replicas: PostgreSQL through `pg`. Every change reads
 * its row `FOR UPDATE` inside a transaction, so two replicas deciding or
 * spending the same approval are serialised by the database: one wins.
 */
import pg from 'pg';
import {
  type ApprovalRow,
  ApprovalRow as ApprovalRowSchema,
  type ApprovalStore,
  applyVote,
  type NewApproval,
  onReturn,
  type Vote,
  type VoteResult,
} from './store.ts';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS gatehouse_approvals (
  id TEXT PRIMARY KEY,
  binding TEXT NOT NULL,
  status TEXT NOT NULL,
  closed BOOLEAN NOT NULL,
  created_at BIGINT NOT NULL,
  data JSONB NOT NULL
);
CREATE INDEX IF NOT EXISTS gatehouse_approvals_open ON gatehouse_approvals (binding, closed, created_at);
`;

/** Any constant: replicas creating the table at once take turns. */
const SCHEMA_LOCK = 0x6761_7465;

type Client = pg.PoolClient;

export class PostgresApprovalStore implements ApprovalStore {
  readonly kind = 'postgres' as const;
  private readonly pool: pg.Pool;
  private constructor(pool: pg.Pool) {
    this.pool = pool;
  }

  static async open(url: string): Promise<PostgresApprovalStore> {
    const pool = new pg.Pool({ connectionString: url, max: 4, connectionTimeoutMillis: 5000 });
    pool.on('error', () => undefined); // an idle client's error surfaces on the next query
    const store = new PostgresApprovalStore(pool);
    try {
      await store.transaction(async (c) => {
        await c.query('SELECT pg_advisory_xact_lock($1)', [SCHEMA_LOCK]);
        await c.query(SCHEMA);
      });
    } catch (error) {
      await pool.end().catch(() => undefined);
      throw error;
    }
    return store;
  }

  private async transaction<T>(body: (client: Client) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const result = await body(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  private static async locked(c: Client, id: string): Promise<ApprovalRow | undefined> {
    const { rows } = await c.query<{ data: unknown }>(
      'SELECT data FROM gatehouse_approvals WHERE id = $1 FOR UPDATE',
      [id],
    );
    return rows[0] ? ApprovalRowSchema.parse(rows[0].data) : undefined;
  }

  private static async update(c: Client, row: ApprovalRow): Promise<void> {
    await c.query('UPDATE gatehouse_approvals SET status = $1, closed = $2, data = $3 WHERE id = $4', [
      row.status,
      row.closed,
      JSON.stringify(row),
      row.id,
    ]);
  }

  async open(fresh: NewApproval, now: number): Promise<ApprovalRow> {
    return this.transaction(async (c) => {
      // Two replicas receiving the same call at once must not open two approvals for it.
      await c.query('SELECT pg_advisory_xact_lock(hashtext($1))', [fresh.binding]);
      const { rows } = await c.query<{ data: unknown }>(
        'SELECT data FROM gatehouse_approvals WHERE binding = $1 AND NOT closed ORDER BY created_at DESC LIMIT 1 FOR UPDATE',
        [fresh.binding],
      );
      if (rows[0]) {
        const row = ApprovalRowSchema.parse(rows[0].data);
        const next = onReturn(row, now);
        if (next !== row) await PostgresApprovalStore.update(c, next);
        return next;
      }
      const row: ApprovalRow = { ...fresh, status: 'pending', votes: [], closed: false };
      await c.query(
        'INSERT INTO gatehouse_approvals (id, binding, status, closed, created_at, data) VALUES ($1, $2, $3, $4, $5, $6)',
        [row.id, row.binding, row.status, row.closed, row.createdAt, JSON.stringify(row)],
      );
      return row;
    });
  }

  async get(id: string): Promise<ApprovalRow | undefined> {
    const { rows } = await this.pool.query<{ data: unknown }>(
      'SELECT data FROM gatehouse_approvals WHERE id = $1',
      [id],
    );
    return rows[0] ? ApprovalRowSchema.parse(rows[0].data) : undefined;
  }

  async vote(id: string, vote: Vote, grantMs: number): Promise<VoteResult> {
    return this.transaction(async (c) => {
      const row = await PostgresApprovalStore.locked(c, id);
      if (!row) return { ok: false, reason: 'unknown' } as const;
      const result = applyVote(row, vote, grantMs);
      if (result.ok) await PostgresApprovalStore.update(c, result.row);
      return result;
    });
  }

  async claim(id: string, now: number): Promise<boolean> {
    return this.transaction(async (c) => {
      const row = await PostgresApprovalStore.locked(c, id);
      if (row?.status !== 'approved' || row.expiresAt <= now) return false;
      await PostgresApprovalStore.update(c, { ...row, status: 'spent', closed: true, spentAt: now });
      return true;
    });
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
