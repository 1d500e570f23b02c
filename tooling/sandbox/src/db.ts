import type { DatabaseSync, SQLInputValue, StatementSync } from 'node:sqlite';

// Loaded lazily (not a static import) so a CLI can install its warning filter before Node 22 announces
// node:sqlite as experimental, and so bundlers never need to resolve the `node:`-only specifier.
const sqlite = () => process.getBuiltinModule('node:sqlite') as typeof import('node:sqlite');

const SCHEMA = `
CREATE TABLE services (name TEXT PRIMARY KEY, display_name TEXT NOT NULL, tier TEXT NOT NULL, team TEXT NOT NULL, data TEXT NOT NULL);
CREATE TABLE health (service TEXT NOT NULL, environment TEXT NOT NULL, data TEXT NOT NULL, PRIMARY KEY (service, environment));
CREATE TABLE deploys (
  seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, service TEXT NOT NULL, environment TEXT NOT NULL,
  version TEXT NOT NULL, commit_sha TEXT NOT NULL, author TEXT NOT NULL, status TEXT NOT NULL,
  started_at TEXT NOT NULL, finished_at TEXT, summary TEXT NOT NULL
);
CREATE INDEX deploys_by_service ON deploys (service, environment, started_at DESC, seq DESC);
CREATE TABLE rollbacks (
  id TEXT PRIMARY KEY, service TEXT NOT NULL, environment TEXT NOT NULL, from_version TEXT NOT NULL,
  to_version TEXT NOT NULL, status TEXT NOT NULL, reason TEXT NOT NULL, requested_at TEXT NOT NULL
);
CREATE TABLE runbooks (rid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, title TEXT NOT NULL, service TEXT, tags TEXT NOT NULL, body TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE VIRTUAL TABLE runbooks_fts USING fts5 (title, tags, body, tokenize = 'porter unicode61');
CREATE TABLE documents (
  rid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, kind TEXT NOT NULL, title TEXT NOT NULL, status TEXT,
  owner TEXT NOT NULL, tags TEXT NOT NULL, updated_at TEXT NOT NULL, body TEXT NOT NULL, url TEXT NOT NULL
);
CREATE VIRTUAL TABLE documents_fts USING fts5 (title, tags, body, tokenize = 'porter unicode61');
CREATE TABLE ownership (service TEXT PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE customers (id TEXT PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE tickets (
  num INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, customer_id TEXT NOT NULL, subject TEXT NOT NULL,
  status TEXT NOT NULL, priority TEXT NOT NULL, assignee TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
  first_response_due_at TEXT NOT NULL, resolution_due_at TEXT NOT NULL, breached INTEGER NOT NULL,
  body TEXT NOT NULL, tags TEXT NOT NULL, escalated INTEGER NOT NULL
);
CREATE INDEX tickets_by_customer ON tickets (customer_id, created_at DESC);
CREATE INDEX tickets_by_created ON tickets (created_at DESC);
CREATE VIRTUAL TABLE tickets_fts USING fts5 (subject, body, tags, tokenize = 'porter unicode61');
CREATE TABLE comments (
  seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, ticket_id TEXT NOT NULL, author TEXT NOT NULL,
  author_type TEXT NOT NULL, internal INTEGER NOT NULL, body TEXT NOT NULL, created_at TEXT NOT NULL
);
CREATE INDEX comments_by_ticket ON comments (ticket_id, created_at, seq);
CREATE TABLE credits (
  seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, customer_id TEXT NOT NULL, amount_cents INTEGER NOT NULL,
  currency TEXT NOT NULL, reason TEXT NOT NULL, ticket_id TEXT, created_at TEXT NOT NULL
);
CREATE INDEX credits_by_customer ON credits (customer_id, created_at DESC);
CREATE TABLE escalations (id TEXT PRIMARY KEY, ticket_id TEXT NOT NULL, level TEXT NOT NULL, reason TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE idempotency (
  scope TEXT NOT NULL, key TEXT NOT NULL, fingerprint TEXT NOT NULL, status INTEGER NOT NULL,
  body TEXT NOT NULL, created_at TEXT NOT NULL, PRIMARY KEY (scope, key)
);
`;

export type Row = Record<string, string | number | null>;

/** A thin wrapper over DatabaseSync that caches prepared statements by SQL text. */
export class Store {
  readonly db: DatabaseSync;
  private readonly statements = new Map<string, StatementSync>();

  constructor(path: string) {
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
