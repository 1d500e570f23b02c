// The docs server's own pure query builder, so the stand-in API ranks the same words the local index does.
import { ftsQuery } from '@gatehouse/fts';
import {
  cleanSnippet,
  notFound,
  ok,
  oneOf,
  pageResult,
  parsePage,
  type Route,
  type Row,
  type Store,
  snippetOf,
  textParam,
  toScore,
} from '@gatehouse/sandbox/kit';
import { DOC_KINDS, DOC_STATUSES } from './data.ts';

const summary = (r: Row, snippet: string, score: number | null) => ({
  id: r.id,
  kind: r.kind,
  title: r.title,
  status: r.status,
  owner: r.owner,
  tags: JSON.parse(String(r.tags)) as string[],
  updatedAt: r.updated_at,
  snippet,
  score,
});

export function docsRoutes(store: Store): Route[] {
  return [
    {
      method: 'GET',
      pattern: '/docs/v1/documents',
      handler: ({ query }) => {
        const page = parsePage(query);
        const text = textParam(query, 'query');
        const kind = oneOf(query, 'kind', DOC_KINDS);
        const status = oneOf(query, 'status', DOC_STATUSES);
        const where: string[] = [];
        const args: string[] = [];
        if (kind) {
          where.push('d.kind = ?');
          args.push(kind);
        }
        if (status) {
          where.push('d.status = ?');
          args.push(status);
        }
        const match = text ? ftsQuery(text) : undefined;
        if (text && !match) return ok(pageResult([], page, 0));
        if (match) {
          const clause = ['documents_fts MATCH ?', ...where].join(' AND ');
          const total = store.get<{ n: number }>(
            `SELECT count(*) AS n FROM documents_fts f JOIN documents d ON d.rid = f.rowid WHERE ${clause}`,
            match,
            ...args,
          )!.n;
          const rows = store.all(
            `SELECT d.rid, d.id, d.kind, d.title, d.status, d.owner, d.tags, d.updated_at, bm25(documents_fts, 10.0, 5.0, 1.0) AS rank,
               snippet(documents_fts, 2, '', '', '…', 24) AS snip
             FROM documents_fts f JOIN documents d ON d.rid = f.rowid WHERE ${clause} ORDER BY rank, d.id LIMIT ? OFFSET ?`,
            match,
            ...args,
            page.limit,
            page.offset,
          );
          const items = rows.map((r) => summary(r, cleanSnippet(String(r.snip)), toScore(Number(r.rank))));
          return ok(pageResult(items, page, total));
        }
        const clause = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
        const total = store.get<{ n: number }>(`SELECT count(*) AS n FROM documents d ${clause}`, ...args)!.n;
        const rows = store.all(
          `SELECT d.id, d.kind, d.title, d.status, d.owner, d.tags, d.updated_at, substr(d.body, 1, 600) AS head FROM documents d ${clause} ORDER BY d.updated_at DESC, d.id LIMIT ? OFFSET ?`,
          ...args,
          page.limit,
          page.offset,
        );
        return ok(
          pageResult(
            rows.map((r) => summary(r, snippetOf(String(r.head)), null)),
            page,
            total,
          ),
        );
      },
    },
    {
      method: 'GET',
      pattern: '/docs/v1/documents/:id',
      handler: ({ params }) => {
        const r = store.get('SELECT * FROM documents WHERE id = ?', params.id!);
        if (!r) throw notFound(`document '${params.id}' does not exist`);
        return ok({
          id: r.id,
          kind: r.kind,
          title: r.title,
          status: r.status,
          owner: r.owner,
          tags: JSON.parse(String(r.tags)),
          updatedAt: r.updated_at,
          url: r.url,
          body: r.body,
        });
      },
    },
    {
      method: 'GET',
      pattern: '/docs/v1/ownership/:service',
      handler: ({ params }) => {
        const r = store.get('SELECT data FROM ownership WHERE service = ?', params.service!);
        if (!r) throw notFound(`no ownership record for service '${params.service}'`);
        return ok(JSON.parse(String(r.data)));
      },
    },
  ];
}
