/**
 * docs' part of the sandbox: the internal docs API under /docs/v1 (ADRs, standards and guides with
 * full-text search, service ownership) with its tables, seed data and contract fragment. Loaded by
 * @gatehouse/sandbox from the workspace at run time; the server's own code never imports this folder.
 */
import { defineSandboxDomain } from '@gatehouse/sandbox/kit';
import { seedDocs } from './data.ts';
import { docsRoutes } from './routes.ts';

const schema = `
CREATE TABLE documents (
  rid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, kind TEXT NOT NULL, title TEXT NOT NULL, status TEXT,
  owner TEXT NOT NULL, tags TEXT NOT NULL, updated_at TEXT NOT NULL, body TEXT NOT NULL, url TEXT NOT NULL
);
CREATE VIRTUAL TABLE documents_fts USING fts5 (title, tags, body, tokenize = 'porter unicode61');
CREATE TABLE ownership (service TEXT PRIMARY KEY, data TEXT NOT NULL);
`;

export default defineSandboxDomain({
  name: 'docs',
  prefix: '/docs/v1',
  tokenPrefix: 'sbx_docs',
  schema,
  seed: seedDocs,
  routes: docsRoutes,
  contract: new URL('./openapi.yaml', import.meta.url),
});
