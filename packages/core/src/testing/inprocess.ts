/**
 * The in-process tier of the test kit: a server's runtime, seam and audit
 * exactly as its binary builds them, connected to a real SDK client over the
 * SDK's in-memory transport pair instead of stdio. No process is spawned, so a
 * test costs milliseconds; cases that depend on the real transport (raw bytes,
 * line caps, stdout purity, exit codes) stay end-to-end.
 */
import { InMemoryTransport, type JSONRPCMessage, type Transport } from '@modelcontextprotocol/server';
import { serveStdio } from '@modelcontextprotocol/server/stdio';
import { buildMcpServer } from '../call/build.ts';
import type { AnyServerDefinition } from '../call/definition.ts';
import { localOperator, narrowToolsets } from '../call/policy.ts';
import { createRuntime, type Runtime } from '../call/runtime.ts';
import { sessionObserver } from '../call/session.ts';
import { configFor } from '../runner.ts';
import type { InboundObserver } from '../stdio/transport.ts';

export interface InProcessServer {
  readonly runtime: Runtime;
  /** The client's end of the linked pair; the server's end is already connected. */
  readonly clientTransport: InMemoryTransport;
  /** Everything the server logged (what the binary writes to stderr). */
  logs(): string;
  close(): Promise<void>;
}

export interface InProcessOptions {
  /** The server's environment, as the binary would get it (its own prefix). */
  env: Record<string, string>;
  /** Command-line flags the runtime honours in-process: `--read-only`. */
  args?: string[];
}

/**
 * Starts `definition` in this process as its binary would over stdio: the
 * configuration parsed from `env`, the local operator as principal, audit
 * records flushed before each answer leaves, unknown tools audited. Idle heap
 * compaction is off unless the env turns it on (it would compact the test runner).
 */
export async function startInProcess(
  definition: AnyServerDefinition,
  options: InProcessOptions,
): Promise<InProcessServer> {
  let logged = '';
  const config = configFor(definition, {
    [`${definition.envPrefix}_IDLE_COMPACT_MS`]: '0',
    ...options.env,
  });
  const runtime = await createRuntime(definition, config, {
    readOnly: options.args?.includes('--read-only') === true,
    logDestination: {
      write(line: string) {
        logged += line;
      },
    },
  });
  const principal = narrowToolsets(localOperator(config.scopes), runtime.policy);
  const [clientTransport, serverTransport] = InMemoryTransport.createLinkedPair();
  const flush = runtime.audit.flushBeforeAnswers((error) =>
    runtime.log.error({ err: error }, 'audit write failed'),
  );
  const handle = serveStdio(() => buildMcpServer(runtime, principal), {
    transport: new ObservedTransport(serverTransport, sessionObserver(runtime, principal), flush),
    onerror: (error) => runtime.log.warn({ err: error.message }, 'protocol error'),
  });
  let closed = false;
  return {
    runtime,
    clientTransport,
    logs: () => logged,
    close: async () => {
      if (closed) return;
      closed = true;
      await handle.close();
      flush();
      await runtime.close();
    },
  };
}

/**
 * The server's end of the pair, wrapped as the stdio transport wraps stdin and
 * stdout: the session observer sees each message before the SDK does, and the
 * audit is flushed before each answer leaves.
 */
class ObservedTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: Transport['onmessage'];

  private readonly inner: InMemoryTransport;
  private readonly observer: InboundObserver;
  private readonly beforeWrite: () => void;

  constructor(inner: InMemoryTransport, observer: InboundObserver, beforeWrite: () => void) {
    this.inner = inner;
    this.observer = observer;
    this.beforeWrite = beforeWrite;
  }

  async start(): Promise<void> {
    this.inner.onclose = () => this.onclose?.();
    this.inner.onerror = (error) => this.onerror?.(error);
    this.inner.onmessage = (message, extra) => {
      try {
        this.observer.onMessage(message);
      } catch {
        // Observation never blocks the protocol.
      }
      this.onmessage?.(message, extra);
    };
    await this.inner.start();
  }

  send(message: JSONRPCMessage): Promise<void> {
    this.beforeWrite();
    return this.inner.send(message);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
