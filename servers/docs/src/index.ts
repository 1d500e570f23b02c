import { ConfigError, defineServer } from '@gatehouse/core';
import pkg from '../package.json' with { type: 'json' };
import { ENV_PREFIX, env } from './config.ts';
import { type Docs, SCOPES, TOOLSETS } from './context.ts';
import { Library } from './library.ts';
import { DocsIndex } from './local/docs-index.ts';
import { LocalFolder } from './local/folder.ts';
import { prompts } from './prompts/index.ts';
import { ADR_INDEX_URI } from './resources/adr-index.ts';
import { resources } from './resources/index.ts';
import { LocalSource } from './sources/local.ts';
import { WikiSource } from './sources/wiki.ts';
import { tools } from './tools/index.ts';
import { WikiApi } from './upstream.ts';

/**
 * When the first index build starts if no call asks for the index sooner: after the burst of
 * initialize, tools/list and friends that follows a start, so none of them waits behind the database,
 * the folder scan or the YAML parser. A call that needs the index starts the build at once.
 */
const INDEX_START_DELAY_MS = 250;

/** The docs server: config → capabilities → dependencies. The runner does the rest. */
const docs = defineServer<Docs, typeof env>({
  name: 'docs',
  title: 'Engineering docs',
  version: pkg.version,
  bin: 'docs-mcp',
  description: 'architecture decision records, standards, guides and service ownership',
  envPrefix: ENV_PREFIX,
  upstream: 'optional',
  upstreamName: 'docs API',
  env,
  scopes: {
    [SCOPES.read]: 'search and read ADRs, standards, guides and service ownership (granted by default)',
  },
  toolsets: TOOLSETS,
  instructions:
    'Engineering knowledge: architecture decision records (ADRs), internal standards, guides and service ownership, from the team\'s Markdown folder (source "local") and the wiki (source "wiki"). Start with search_docs; read a hit with get_document (long documents come in parts: pass nextCursor back). list_adrs gives the decision log in number order; find_service_owner answers who owns a service and who is on call. Everything is read-only.',
  createDeps: ({ config, log, upstream, announce }) => {
    const root = config.env.DOCS_ROOT;
    if (!root && !upstream) {
      throw new ConfigError(
        'no docs source: set DOCS_ROOT (a folder of Markdown) and/or DOCS_API_URL with DOCS_API_TOKEN (the docs API)',
      );
    }
    let index: DocsIndex | undefined;
    if (root) {
      index = new DocsIndex({
        root,
        dbPath: config.env.DOCS_INDEX_PATH,
        log: log.child({ component: 'docs-index' }),
        onChange: (changes) => {
          if (changes.added.length > 0 || changes.removed.length > 0) announce.resourceListChanged();
          for (const path of [...changes.modified, ...changes.added, ...changes.removed].slice(0, 100))
            announce.resourceUpdated(`docs://${path}`);
          if ([...changes.added, ...changes.modified, ...changes.removed].length > 0)
            announce.resourceUpdated(ADR_INDEX_URI);
        },
      });
      // Indexing runs in the background, a little later: the server answers at once, searches wait
      // (bounded) for the index and start it right away if it has not started yet.
      index.start(INDEX_START_DELAY_MS);
    }
    const folder = new LocalFolder({ index, waitMs: config.env.DOCS_INDEX_WAIT_MS });
    return {
      // The folder first: its hits lead the interleaving and its ADRs win ties.
      library: new Library({
        sources: [new LocalSource(folder), new WikiSource(upstream ? new WikiApi(upstream) : undefined)],
        log,
      }),
      folder,
      close: () => index?.close(),
    };
  },
  disposeDeps: (deps) => deps.close(),
  tools,
  resources,
  prompts,
});

export default docs;
