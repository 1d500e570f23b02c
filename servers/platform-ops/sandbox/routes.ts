import { randomBytes } from 'node:crypto';
import {
  asObject,
  badRequest,
  bodyString,
  ENVIRONMENTS,
  type Environment,
  forbidden,
  ftsQuery,
  isoParam,
  notFound,
  ok,
  oneOf,
  pageResult,
  parsePage,
  type Route,
  type RouteContext,
  type Row,
  type Store,
  snippetOf,
  textParam,
  toScore,
  unprocessable,
} from '@gatehouse/sandbox/kit';

const deployJson = (r: Row) => ({
  id: r.id,
  service: r.service,
  environment: r.environment,
  version: r.version,
  commit: r.commit_sha,
  author: r.author,
  status: r.status,
  startedAt: r.started_at,
  finishedAt: r.finished_at,
  summary: r.summary,
});

const runbookItem = (r: Row, score: number | null) => ({
  id: r.id,
  title: r.title,
  service: r.service,
  tags: JSON.parse(String(r.tags)) as string[],
  summary: snippetOf(String(r.body)),
  score,
});

function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const diff = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (diff !== 0) return diff;
  }
  return 0;
}

export function platformRoutes(store: Store): Route[] {
  const requireService = (name: string): Row => {
    const row = store.get('SELECT name, team, data FROM services WHERE name = ?', name);
    if (!row) throw notFound(`service '${name}' does not exist`);
    return row;
  };
  /** The platform API's own rule: an engineer (a user token) may act only on their team's services (`team:<name>`). */
  const requireTeam = (service: Row, caller: RouteContext['caller']): void => {
    if (caller && !caller.groups.includes(`team:${String(service.team)}`))
      throw forbidden(
        `${caller.sub} is not in team ${String(service.team)}, which owns ${String(service.name)}`,
      );
  };

  return [
    {
      method: 'GET',
      pattern: '/platform/v1/services',
      handler: ({ query }) => {
        const page = parsePage(query);
        const prefix = textParam(query, 'prefix', 100) ?? '';
        const total = store.get<{ n: number }>(
          'SELECT count(*) AS n FROM services WHERE substr(name, 1, length(?)) = ?',
          prefix,
          prefix,
        )!.n;
        const rows = store.all(
          'SELECT name, display_name, tier, team FROM services WHERE substr(name, 1, length(?)) = ? ORDER BY name LIMIT ? OFFSET ?',
          prefix,
          prefix,
          page.limit,
          page.offset,
        );
        const items = rows.map((r) => ({
          name: r.name,
          displayName: r.display_name,
          tier: r.tier,
          team: r.team,
        }));
        return ok(pageResult(items, page, total));
      },
    },
    {
      method: 'GET',
      pattern: '/platform/v1/services/:service',
      handler: ({ params }) => ok(JSON.parse(String(requireService(params.service!).data))),
    },
    {
      method: 'GET',
      pattern: '/platform/v1/services/:service/health',
      handler: ({ params, query }) => {
        const environment = oneOf(query, 'environment', ENVIRONMENTS, true)!;
        requireService(params.service!);
        const row = store.get(
          'SELECT data FROM health WHERE service = ? AND environment = ?',
          params.service!,
          environment,
        )!;
        return ok(JSON.parse(String(row.data)));
      },
    },
    {
      method: 'GET',
      pattern: '/platform/v1/services/:service/deploys',
      handler: ({ params, query }) => {
        const page = parsePage(query);
        const environment = oneOf(query, 'environment', ENVIRONMENTS);
        const since = isoParam(query, 'since');
        requireService(params.service!);
        const where = ['service = ?'];
        const args: string[] = [params.service!];
        if (environment) {
          where.push('environment = ?');
          args.push(environment);
        }
        if (since) {
          where.push('started_at >= ?');
          args.push(since);
        }
        const clause = where.join(' AND ');
        const total = store.get<{ n: number }>(
          `SELECT count(*) AS n FROM deploys WHERE ${clause}`,
          ...args,
        )!.n;
        const rows = store.all(
          `SELECT * FROM deploys WHERE ${clause} ORDER BY started_at DESC, seq DESC LIMIT ? OFFSET ?`,
          ...args,
          page.limit,
          page.offset,
        );
        return ok(pageResult(rows.map(deployJson), page, total));
      },
    },
    {
      method: 'POST',
      pattern: '/platform/v1/services/:service/rollbacks',
      idempotent: true,
      handler: ({ params, body, caller }) => {
        const input = asObject(body);
        const environment = input.environment;
        if (typeof environment !== 'string' || !(ENVIRONMENTS as readonly string[]).includes(environment)) {
          throw badRequest(`environment must be one of ${ENVIRONMENTS.join(', ')}`);
        }
        const reason = bodyString(input, 'reason', { max: 1000 })!;
        const targetVersion = bodyString(input, 'targetVersion', { max: 64, required: false });
        const service = params.service!;
        requireTeam(requireService(service), caller);
        const env = environment as Environment;
        const current = store.get(
          "SELECT * FROM deploys WHERE service = ? AND environment = ? AND status IN ('succeeded', 'in_progress') ORDER BY started_at DESC, seq DESC LIMIT 1",
          service,
          env,
        );
        if (!current) throw unprocessable(`no current deploy of ${service} in ${env}`);
        const fromVersion = String(current.version);
        let target: Row | undefined;
        if (targetVersion !== undefined) {
          if (targetVersion === fromVersion)
            throw unprocessable(`${service} is already running ${targetVersion} in ${env}`);
          target = store.get(
            "SELECT * FROM deploys WHERE service = ? AND environment = ? AND version = ? AND status = 'succeeded' ORDER BY started_at DESC LIMIT 1",
            service,
            env,
            targetVersion,
          );
          if (!target)
            throw unprocessable(`version ${targetVersion} was never successfully deployed to ${env}`);
        } else {
          // "Earlier" means a lower semantic version that once deployed successfully; the newest such deploy wins.
          target = store
            .all(
              "SELECT * FROM deploys WHERE service = ? AND environment = ? AND status = 'succeeded' ORDER BY started_at DESC, seq DESC",
              service,
              env,
            )
            .find((d) => compareVersions(String(d.version), fromVersion) < 0);
          if (!target) throw unprocessable(`no earlier succeeded version of ${service} exists in ${env}`);
        }
        const now = new Date().toISOString();
        const id = `rbk_${randomBytes(7).toString('hex')}`;
        const toVersion = String(target.version);
        // The running deploy is marked rolled back; the rollback itself is a new in-progress deploy.
        store.run(
          "UPDATE deploys SET status = 'rolled_back', finished_at = coalesce(finished_at, ?) WHERE seq = ?",
          now,
          Number(current.seq),
        );
        store.run(
          "INSERT INTO deploys (id, service, environment, version, commit_sha, author, status, started_at, finished_at, summary) VALUES (?, ?, ?, ?, ?, ?, 'in_progress', ?, NULL, ?)",
          `dep_${randomBytes(6).toString('hex')}`,
          service,
          env,
          toVersion,
          String(target.commit_sha),
          'rollback-bot',
          now,
          `Rollback ${fromVersion} → ${toVersion} (${id}): ${reason.slice(0, 200)}`,
        );
        store.run(
          "INSERT INTO rollbacks (id, service, environment, from_version, to_version, status, reason, requested_at) VALUES (?, ?, ?, ?, ?, 'started', ?, ?)",
          id,
          service,
          env,
          fromVersion,
          toVersion,
          reason,
          now,
        );
        return ok(
          {
            id,
            service,
            environment: env,
            fromVersion,
            toVersion,
            status: 'started',
            reason,
            requestedAt: now,
          },
          201,
        );
      },
    },
    {
      method: 'GET',
      pattern: '/platform/v1/runbooks',
      handler: ({ query }) => {
        const page = parsePage(query);
        const text = textParam(query, 'query');
        const service = textParam(query, 'service', 100);
        const match = text ? ftsQuery(text) : undefined;
        const serviceClause = service ? ' AND r.service = ?' : '';
        const serviceArgs = service ? [service] : [];
        if (match) {
          const total = store.get<{ n: number }>(
            `SELECT count(*) AS n FROM runbooks_fts f JOIN runbooks r ON r.rid = f.rowid WHERE runbooks_fts MATCH ?${serviceClause}`,
            match,
            ...serviceArgs,
          )!.n;
          const rows = store.all(
            `SELECT r.*, bm25(runbooks_fts, 10.0, 5.0, 1.0) AS rank FROM runbooks_fts f JOIN runbooks r ON r.rid = f.rowid WHERE runbooks_fts MATCH ?${serviceClause} ORDER BY rank, r.id LIMIT ? OFFSET ?`,
            match,
            ...serviceArgs,
            page.limit,
            page.offset,
          );
          return ok(
            pageResult(
              rows.map((r) => runbookItem(r, toScore(Number(r.rank)))),
              page,
              total,
            ),
          );
        }
        if (text) return ok(pageResult([], page, 0));
        const where = service ? 'WHERE r.service = ?' : '';
        const total = store.get<{ n: number }>(
          `SELECT count(*) AS n FROM runbooks r ${where}`,
          ...serviceArgs,
        )!.n;
        const rows = store.all(
          `SELECT r.* FROM runbooks r ${where} ORDER BY r.id LIMIT ? OFFSET ?`,
          ...serviceArgs,
          page.limit,
          page.offset,
        );
        return ok(
          pageResult(
            rows.map((r) => runbookItem(r, null)),
            page,
            total,
          ),
        );
      },
    },
    {
      method: 'GET',
      pattern: '/platform/v1/runbooks/:id',
      handler: ({ params }) => {
        const r = store.get('SELECT * FROM runbooks WHERE id = ?', params.id!);
        if (!r) throw notFound(`runbook '${params.id}' does not exist`);
        return ok({
          id: r.id,
          title: r.title,
          service: r.service,
          tags: JSON.parse(String(r.tags)),
          body: r.body,
          updatedAt: r.updated_at,
        });
      },
    },
  ];
}
