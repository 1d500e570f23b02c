/** startSandbox: gathers the domains, seeds one SQLite store, and serves them all on one loopback port. */
import { createServer } from 'node:http';
import type { Socket } from 'node:net';
import { mountDomains } from './api.ts';
import { TokenBook } from './auth.ts';
import { Store } from './db.ts';
import { discoverDomains } from './discover.ts';
import { checkDomain, checkDomainSet, type SandboxDomain } from './domain.ts';
import { FaultSet, validateRules } from './faults.ts';
import { type HandlerContext, requestHandler } from './handle.ts';
import { IdentityVerifier } from './identity.ts';
import { Pacer } from './respond.ts';
import type { RequestRecord, Sandbox, SandboxOptions } from './types.ts';

export type { RequestRecord, Sandbox, SandboxOptions } from './types.ts';

/** The workspace's fragments (unless `discover: false`), then the caller's, checked as one set. */
export async function resolveDomains(options: Pick<SandboxOptions, 'domains' | 'discover'> = {}) {
  const found = options.discover === false ? [] : await discoverDomains();
  const extra = (options.domains ?? []).map((d, i) => checkDomain(d, `options.domains[${i}]`));
  const domains: SandboxDomain[] = [...found, ...extra];
  checkDomainSet(domains);
  return domains;
}

export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const host = options.host ?? '127.0.0.1';
  if (host !== '127.0.0.1') throw new Error(`sandbox only listens on 127.0.0.1 (got ${String(host)})`);
  const domains = await resolveDomains(options);
  const tokens = new TokenBook(domains, options.tokens, options.controlToken);

  const faults = new FaultSet();
  if (options.faults) {
    const checked = validateRules(options.faults);
    if ('error' in checked) throw new Error(`invalid fault rules: ${checked.error}`);
    faults.replace(checked.rules);
  }

  const store = new Store(
    options.dbPath ?? ':memory:',
    domains.flatMap((d) => (d.schema ? [d.schema] : [])),
  );
  const now = Math.floor(Date.now() / 60_000) * 60_000;
  let mounted: ReturnType<typeof mountDomains>;
  try {
    store.transaction(() => {
      for (const domain of domains) domain.seed?.(store, now);
    });
    mounted = mountDomains(domains, store);
  } catch (error) {
    store.close();
    throw error;
  }

  const records: RequestRecord[] = [];
  const pacer = new Pacer();
  const sockets = new Set<Socket>();
  const api: HandlerContext = { mounted, tokens, store, log: options.log, faults, records, pacer };
  const handle = requestHandler(api);

  const server = createServer({ keepAliveTimeout: 5_000 }, (req, res) => {
    void handle(req, res);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('clientError', (_error, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
    else socket.destroy();
  });

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    store.close();
    throw error;
  }
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  if (options.identity) api.identity = new IdentityVerifier(options.identity, `http://${host}:${port}`);

  let closed: Promise<void> | undefined;
  return {
    url: `http://${host}:${port}`,
    tokens: tokens.tokens,
    controlToken: tokens.controlToken,
    domains,
    close: () => {
      closed ??= new Promise<void>((resolve) => {
        pacer.close();
        server.close(() => {
          store.close();
          resolve();
        });
        for (const socket of sockets) socket.destroy();
        sockets.clear();
      });
      return closed;
    },
  };
}
