/**
 * The embedded approval store: node:sqlite, one file (or memory). Every change
 * runs in `BEGIN IMMEDIATE`, which takes the database's write lock first, so
 * processes sharing the file decide and spend each approval once.
 */
import { DatabaseSync } from 'node:sqlite';
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
  closed INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS gatehouse_approvals_open ON gatehouse_approvals (binding, closed, created_at);
`;

export class SqliteApprovalStore implements ApprovalStore {
  readonly kind = 'sqlite' as const;
  private readonly db: DatabaseSync;
  private constructor(db: DatabaseSync) {
    this.db = db;
  }

  static open(path: string): SqliteApprovalStore {
    const db = new DatabaseSync(path, { timeout: 5000 });
    db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;');
    db.exec(SCHEMA);
    return new SqliteApprovalStore(db);
  }

  private transaction<T>(body: () => T): T {
    this.db.exec('BEGIN IMMEDIATE');
    try {
      const result = body();
      this.db.exec('COMMIT');
      return result;
    } catch (error) {
      this.db.exec('ROLLBACK');
      throw error;
    }
  }

  private read(id: string): ApprovalRow | undefined {
    const found = this.db.prepare('SELECT data FROM gatehouse_approvals WHERE id = ?').get(id) as
      | { data: string }
      | undefined;
    return found ? ApprovalRowSchema.parse(JSON.parse(found.data)) : undefined;
  }

  private write(row: ApprovalRow, insert = false): void {
    const data = JSON.stringify(row);
    if (insert)
      this.db
        .prepare(
          'INSERT INTO gatehouse_approvals (id, binding, status, closed, created_at, data) VALUES (?, ?, ?, ?, ?, ?)',
        )
        .run(row.id, row.binding, row.status, row.closed ? 1 : 0, row.createdAt, data);
    else
      this.db
        .prepare('UPDATE gatehouse_approvals SET status = ?, closed = ?, data = ? WHERE id = ?')
        .run(row.status, row.closed ? 1 : 0, data, row.id);
  }

  async open(fresh: NewApproval, now: number): Promise<ApprovalRow> {
    return this.transaction(() => {
      const found = this.db
        .prepare(
          'SELECT data FROM gatehouse_approvals WHERE binding = ? AND closed = 0 ORDER BY created_at DESC LIMIT 1',
        )
        .get(fresh.binding) as { data: string } | undefined;
      if (found) {
        const row = ApprovalRowSchema.parse(JSON.parse(found.data));
        const next = onReturn(row, now);
        if (next !== row) this.write(next);
        return next;
      }
      const row: ApprovalRow = { ...fresh, status: 'pending', votes: [], closed: false };
      this.write(row, true);
      return row;
    });
  }

  async get(id: string): Promise<ApprovalRow | undefined> {
    return this.read(id);
  }

  async vote(id: string, vote: Vote, grantMs: number): Promise<VoteResult> {
    return this.transaction(() => {
      const row = this.read(id);
      if (!row) return { ok: false, reason: 'unknown' } as const;
      const result = applyVote(row, vote, grantMs);
      if (result.ok) this.write(result.row);
      return result;
    });
  }

  async claim(id: string, now: number): Promise<boolean> {
    return this.transaction(() => {
      const row = this.read(id);
      if (row?.status !== 'approved' || row.expiresAt <= now) return false;
      this.write({ ...row, status: 'spent', closed: true, spentAt: now });
      return true;
    });
  }

  async close(): Promise<void> {
    if (this.db.isOpen) this.db.close();
  }
}
