import type { DatabaseSync, SQLInputValue, StatementSync } from 'node:sqlite';

// Loaded lazily (not a static import) so a CLI can install its warning filter before Node 22 announces
// node:sqlite as experimental, and so bundlers never need to resolve the `node:`-only specifier.
const sqlite = () => process.getBuiltinModule('node:sqlite') as typeof import('node:sqlite');

/** The sandbox's own table; each domain brings its tables in its fragment's `schema`. */
const SCHEMA = `
CREATE TABLE idempotency (
  scope TEXT NOT NULL, key TEXT NOT NULL, fingerprint TEXT NOT NULL, status INTEGER NOT NULL,
  body TEXT NOT NULL, created_at TEXT NOT NULL, PRIMARY KEY (scope, key)
);
`;

export type Row = Record<string, string | number | null>;

/** A thin wrapper over DatabaseSync that caches prepared statements by SQL text. Routes and seeds get one. */
export class Store {
  readonly db: DatabaseSync;
  private readonly statements = new Map<string, StatementSync>();

  /** Opens `path` (':memory:' or a file) and creates the sandbox's table plus each domain's `schemas`. */
  constructor(path: string, schemas: readonly string[] = []) {
    this.db = new (sqlite().DatabaseSync)(path);
    this.db.exec('PRAGMA journal_mode = MEMORY; PRAGMA synchronous = OFF; PRAGMA foreign_keys = OFF;');
    // A file-backed database from an earlier run is rebuilt from scratch so data stays deterministic.
    const tables = this.db
      .prepare(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '%_fts_%'",
      )
      .all() as { name: string }[];
    for (const { name } of tables) this.db.exec(`DROP TABLE IF EXISTS "${name}"`);
    this.db.exec(SCHEMA);
    for (const schema of schemas) this.db.exec(schema);
  }

  stmt(sql: string): StatementSync {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  all<T = Row>(sql: string, ...params: SQLInputValue[]): T[] {
    return this.stmt(sql).all(...params) as T[];
  }

  get<T = Row>(sql: string, ...params: SQLInputValue[]): T | undefined {
    return this.stmt(sql).get(...params) as T | undefined;
  }

  run(sql: string, ...params: SQLInputValue[]): void {
    this.stmt(sql).run(...params);
  }

  transaction<T>(fn: () => T): T {
    this.db.exec('BEGIN');
    try {
      const result = fn();
      this.db.exec('COMMIT');
      return result;
    } catch (error) {
      this.db.exec('ROLLBACK');
      throw error;
    }
  }

  close(): void {
    this.statements.clear();
    if (this.db.isOpen) this.db.close();
  }
}
