/**
 * support's part of the sandbox: the internal support API under /support/v1 (tickets with full-text
 * search, customers, notes, escalations, credits) with its tables, seed data and contract fragment.
 * Loaded by @gatehouse/sandbox from the workspace at run time; the server's own code never imports this folder.
 */
import { defineSandboxDomain } from '@gatehouse/sandbox/kit';
import { seedSupport } from './data.ts';
import { supportRoutes } from './routes.ts';

const schema = `
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
`;

export default defineSandboxDomain({
  name: 'support',
  prefix: '/support/v1',
  tokenPrefix: 'sbx_sup',
  schema,
  seed: seedSupport,
  routes: supportRoutes,
  contract: new URL('./openapi.yaml', import.meta.url),
});
