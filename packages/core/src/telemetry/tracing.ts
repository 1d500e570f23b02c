/**
 * OpenTelemetry tracing, off unless the standard OTEL_* variables ask for it.
 * Nothing of OpenTelemetry is loaded with the server, not even
 * `@opentelemetry/api` (53 modules, ~10 ms of a ~220 ms cold start):
 * startTracing imports the API, SDK and OTLP exporter on demand (~240
 * modules, ~70 ms, only when configured), and until then every hook returns
 * a shared no-op handle after one check.
 *
 * Spans carry names, codes, statuses and counts only: never argument values,
 * resource URIs filled in by a caller, upstream URLs with ids, or credentials.
 */

import { TRACEPARENT_META_KEY, TRACESTATE_META_KEY } from '@modelcontextprotocol/server';
import type { Attributes, Context, TextMapGetter, Tracer } from '@opentelemetry/api';
import type { Logger } from './logger.ts';
import { otlpProtocol, otlpRequested, serviceResource } from './otlp-env.ts';

type Api = typeof import('@opentelemetry/api');

/** Set while tracing runs; every hook checks `tracer` first. */
let api: Api | undefined;
let tracer: Tracer | undefined;
let stop: (() => Promise<void>) | undefined;

/**
 * Starts the SDK when the environment asks for it: OTLP over HTTP (protobuf
 * by default, JSON with OTEL_EXPORTER_OTLP_[TRACES_]PROTOCOL=http/json), a
 * batch processor, W3C trace context, async-local context. The exporter reads
 * its endpoint, headers, timeout and compression from the usual variables.
 * Never fails the server: a problem is logged and the server runs untraced.
 */
export async function startTracing(options: {
  name: string;
  version: string;
  env: NodeJS.ProcessEnv;
  log: Logger;
}): Promise<void> {
  const { env, log } = options;
  if (tracer || !otlpRequested(env, 'TRACES')) return;
  const protocol = otlpProtocol(env, 'TRACES');
  if (typeof protocol !== 'string') {
    log.warn(
      { protocol: protocol.unsupported },
      'tracing off: only the OTLP protocols http/protobuf and http/json are supported',
    );
    return;
  }
  try {
    const [otel, sdk, resources, core, hooks, exporterModule] = await Promise.all([
      import('@opentelemetry/api'),
      import('@opentelemetry/sdk-trace'),
      import('@opentelemetry/resources'),
      import('@opentelemetry/core'),
      import('@opentelemetry/context-async-hooks'),
      protocol === 'http/json'
        ? import('@opentelemetry/exporter-trace-otlp-http')
        : import('@opentelemetry/exporter-trace-otlp-proto'),
    ]);
    // The SDK reports export failures through diag; send them to the server's log (never stdout).
    otel.diag.setLogger(
      {
        error: (message) => log.warn({ component: 'otel' }, message),
        warn: (message) => log.warn({ component: 'otel' }, message),
        info: () => undefined,
        debug: () => undefined,
        verbose: () => undefined,
      },
      otel.DiagLogLevel.WARN,
    );
    const resource = serviceResource(resources, options.name, options.version);
    const provider = new sdk.TracerProvider({
      resource,
      spanProcessors: [new sdk.BatchSpanProcessor({ exporter: new exporterModule.OTLPTraceExporter() })],
    });
    const contextManager = new hooks.AsyncLocalStorageContextManager().enable();
    otel.context.setGlobalContextManager(contextManager);
    otel.propagation.setGlobalPropagator(new core.W3CTraceContextPropagator());
    otel.trace.setGlobalTracerProvider(provider);
    api = otel;
    tracer = provider.getTracer('@gatehouse/core', options.version);
    stop = async () => {
      await provider.shutdown();
      contextManager.disable();
      // Hand the globals back, so a later start in the same process registers its own.
      otel.trace.disable();
      otel.context.disable();
      otel.propagation.disable();
      otel.diag.disable();
    };
    log.info({ protocol }, 'tracing to OTLP');
  } catch (error) {
    log.warn({ err: error }, 'tracing off: the OpenTelemetry SDK could not start');
  }
}

/** Exports what is buffered and stops, within a bound so a dead collector cannot hold up shutdown. */
export async function shutdownTracing(timeoutMs = 5_000): Promise<void> {
  const current = stop;
  if (!current) return;
  stop = undefined;
  tracer = undefined;
  api = undefined;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    current().catch(() => undefined),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
      timer.unref();
    }),
  ]);
  clearTimeout(timer);
}

/** Reads exactly the two trace-context keys of a request's `_meta`, and only string values. */
const META_KEYS: Readonly<Record<string, string>> = {
  traceparent: TRACEPARENT_META_KEY,
  tracestate: TRACESTATE_META_KEY,
};
const metaGetter: TextMapGetter<Record<string, unknown>> = {
  keys: () => Object.keys(META_KEYS),
  get(carrier, key) {
    const metaKey = Object.hasOwn(META_KEYS, key) ? META_KEYS[key] : undefined;
    const value = metaKey === undefined ? undefined : carrier[metaKey];
    return typeof value === 'string' ? value : undefined;
  },
};

/** Runs `fn` under the trace context of an incoming HTTP request's `traceparent`/`tracestate` headers. */
export function withIncomingTrace<T>(headers: Record<string, string | string[] | undefined>, fn: () => T): T {
  if (!tracer || !api) return fn();
  return api.context.with(api.propagation.extract(api.ROOT_CONTEXT, headers), fn);
}

export type McpMethod = 'tools/call' | 'resources/read' | 'prompts/get';

/** One MCP request at the seam. */
export interface McpSpan {
  /** Runs `fn` with this span as the parent of the upstream requests it makes. */
  run<T>(fn: () => Promise<T>): Promise<T>;
  end(result: {
    outcome: string;
    decision?: string;
    errorCode?: string | undefined;
    upstreamCalls: number;
  }): void;
}

const NOOP_MCP_SPAN: McpSpan = { run: (fn) => fn(), end: () => undefined };

/** The request's `_meta` (and, should the SDK lift them there, its envelope) as a trace carrier. */
function carrierOf(request: { _meta?: object | undefined; envelope?: object | undefined }) {
  const meta = request._meta as Record<string, unknown> | undefined;
  if (meta && typeof meta[TRACEPARENT_META_KEY] === 'string') return meta;
  const envelope = request.envelope as Record<string, unknown> | undefined;
  if (envelope && typeof envelope[TRACEPARENT_META_KEY] === 'string') return envelope;
  return undefined;
}

/**
 * Starts the span of one MCP request. Its parent is the `traceparent` in the
 * request's `_meta` when there is one (the caller's own MCP span), else the
 * HTTP request's `traceparent` header, else none.
 * `target` is a tool or prompt name, or a resource's URI or URI template.
 */
export function startMcpSpan(
  method: McpMethod,
  target: string,
  request: { _meta?: object | undefined; envelope?: object | undefined },
  requestId: string,
): McpSpan {
  if (!tracer || !api) return NOOP_MCP_SPAN;
  const { context, propagation, trace, SpanKind, SpanStatusCode } = api;
  const carrier = carrierOf(request);
  const active = context.active();
  const parent: Context = carrier ? propagation.extract(active, carrier, metaGetter) : active;
  const attributes: Attributes = { 'mcp.method.name': method, 'gatehouse.request_id': requestId };
  if (method === 'tools/call') {
    attributes['gen_ai.operation.name'] = 'execute_tool';
    attributes['gen_ai.tool.name'] = target;
  } else if (method === 'prompts/get') attributes['gen_ai.prompt.name'] = target;
  else attributes['gatehouse.resource'] = target;
  const span = tracer.startSpan(`${method} ${target}`, { kind: SpanKind.SERVER, attributes }, parent);
  const inside = trace.setSpan(parent, span);
  return {
    run: (fn) => context.with(inside, fn),
    end(result) {
      span.setAttribute('gatehouse.outcome', result.outcome);
      if (result.decision) span.setAttribute('gatehouse.decision', result.decision);
      span.setAttribute('gatehouse.upstream.calls', result.upstreamCalls);
      if (result.errorCode) {
        span.setAttribute('error.type', result.errorCode);
        if (result.outcome === 'error' || result.outcome === 'cancelled')
          span.setStatus({ code: SpanStatusCode.ERROR, message: result.errorCode });
      }
      span.end();
    },
  };
}

/** One upstream HTTP exchange (all its attempts). */
export interface UpstreamSpan {
  /** `traceparent`/`tracestate` to send upstream; empty when not tracing. */
  readonly headers: Readonly<Record<string, string>>;
  /** Called as each attempt starts, retries included (a request the breaker refuses never attempts). */
  attempt(): void;
  end(status: number | undefined, errorCode?: string): void;
}

const NOOP_UPSTREAM_SPAN: UpstreamSpan = {
  headers: Object.freeze({}),
  attempt: () => undefined,
  end: () => undefined,
};

/** Built paths → the apiPath template they came from, so span names carry no ids. Bounded. */
const routes = new Map<string, string>();
const MAX_ROUTES = 256;

/** Remembers which template produced `path` (apiPath calls it; a no-op when not tracing). */
export function rememberRoute(path: string, template: string): void {
  if (!tracer || path === template) return;
  if (routes.size >= MAX_ROUTES) routes.delete(routes.keys().next().value as string);
  routes.set(path, template);
}

/**
 * Starts the client span of one upstream request, a child of the active MCP
 * span. Its name and `url.template` are the route template (`/v1/items/{}`),
 * never the path with its ids.
 */
export function startUpstreamSpan(
  method: string,
  path: string,
  upstream: string,
  baseUrl: string,
): UpstreamSpan {
  if (!tracer || !api) return NOOP_UPSTREAM_SPAN;
  const { context, propagation, trace, SpanKind, SpanStatusCode } = api;
  const template = routes.get(path) ?? path.split('?')[0] ?? '';
  const attributes: Attributes = {
    'http.request.method': method,
    'url.template': template,
    'gatehouse.upstream': upstream,
  };
  try {
    const base = new URL(baseUrl);
    attributes['server.address'] = base.hostname;
    attributes['server.port'] = Number(base.port || (base.protocol === 'https:' ? 443 : 80));
  } catch {
    // A base URL config accepted is always parseable; nothing to add otherwise.
  }
  const parent = context.active();
  const span = tracer.startSpan(`${method} ${template}`, { kind: SpanKind.CLIENT, attributes }, parent);
  const headers: Record<string, string> = {};
  propagation.inject(trace.setSpan(parent, span), headers);
  let attempts = 0;
  return {
    headers,
    attempt() {
      attempts += 1;
    },
    end(status, errorCode) {
      span.setAttribute('gatehouse.upstream.attempts', attempts);
      if (attempts > 1) span.setAttribute('http.request.resend_count', attempts - 1);
      if (status !== undefined) span.setAttribute('http.response.status_code', status);
      if (errorCode) {
        span.setAttribute('error.type', errorCode);
        span.setStatus({ code: SpanStatusCode.ERROR, message: errorCode });
      }
      span.end();
    },
  };
}
