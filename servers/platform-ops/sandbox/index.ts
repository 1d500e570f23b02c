/**
 * platform-ops' part of the sandbox: the internal platform API under /platform/v1 (service catalogue,
 * health, deploys, runbooks, rollbacks) with its tables, seed data and contract fragment. Loaded by
 * @gatehouse/sandbox from the workspace at run time; the server's own code never imports this folder.
 */
import { defineSandboxDomain } from '@gatehouse/sandbox/kit';
import { seedPlatform } from './data.ts';
import { platformRoutes } from './routes.ts';

const schema = `
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
`;

export default defineSandboxDomain({
  name: 'platform-ops',
  prefix: '/platform/v1',
  tokenPrefix: 'sbx_ops',
  schema,
  seed: seedPlatform,
  routes: platformRoutes,
  contract: new URL('./openapi.yaml', import.meta.url),
});
