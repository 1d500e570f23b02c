import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { AuditEntry } from '../audit/record.ts';
import type { Runtime } from '../call/runtime.ts';

const CIRCUIT = { closed: 0, 'half-open': 1, open: 2, isolated: 3 } as const;
/** Latency buckets (seconds) of both duration histograms: 5 ms to 30 s. */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * Counts kept in a plain map on the request path and handed to a prom-client
 * counter when it is collected (a scrape): an increment is then a map update,
 * not prom-client's label validation and hashing on every request.
 */
class PendingCounts<L extends string> {
  private readonly counts = new Map<string, { labels: Record<L, string>; n: number }>();

  add(key: string, labels: () => Record<L, string>): void {
    const entry = this.counts.get(key);
    if (entry) entry.n += 1;
    else this.counts.set(key, { labels: labels(), n: 1 });
  }

  /** Moves every pending count into `counter`. */
  drain(counter: Counter<L>): void {
    for (const { labels, n } of this.counts.values()) counter.inc(labels, n);
    this.counts.clear();
  }
}

/**
 * A histogram's series, one per label value, bound once: `observe(labels, v)`
 * validates and hashes the labels on every call, a bound child does not.
 */
class BoundSeries<L extends string> {
  private readonly children = new Map<string, Histogram.Internal<L>>();
  private readonly histogram: Histogram<L>;
  private readonly label: L;
  constructor(histogram: Histogram<L>, label: L) {
    this.histogram = histogram;
    this.label = label;
  }

  observe(value: string, seconds: number): void {
    let child = this.children.get(value);
    if (!child) {
      child = this.histogram.labels({ [this.label]: value } as Record<L, string>);
      this.children.set(value, child);
    }
    child.observe(seconds);
  }
}

/** Prometheus metrics for one process, on its own registry (no global state). */
export class HttpMetrics {
  readonly registry = new Registry();
  readonly requests: Counter<'route' | 'method' | 'status'>;
  readonly toolCalls: Counter<'tool' | 'outcome' | 'code'>;
  readonly authFailures: Counter<'reason'>;
  readonly rejected: Counter<'reason'>;
  readonly inflight: Gauge;
  readonly sessions: Gauge;
  /** Requests being served now: the HTTP front keeps it, the gauge reads it when collected. */
  inflightNow = 0;
  private readonly pendingRequests = new PendingCounts<'route' | 'method' | 'status'>();
  private readonly pendingToolCalls = new PendingCounts<'tool' | 'outcome' | 'code'>();
  private readonly routeSeconds: BoundSeries<'route'>;
  private readonly toolCallSeconds: BoundSeries<'tool'>;

  constructor(runtime: Runtime, sessionCount: () => number) {
    const registers = [this.registry];
    this.registry.setDefaultLabels({ server: runtime.definition.name });
    const counter = <L extends string>(
      name: string,
      help: string,
      labelNames: L[],
      pending?: () => PendingCounts<L>,
    ) =>
      new Counter<L>({
        name,
        help,
        labelNames,
        registers,
        ...(pending
          ? {
              collect() {
                pending().drain(this);
              },
            }
          : {}),
      });
    const latency = <L extends string>(name: string, help: string, labelNames: L[]) =>
      new Histogram<L>({ name, help, labelNames, buckets: LATENCY_BUCKETS, registers });
    this.requests = counter(
      'gatehouse_http_requests_total',
      'HTTP requests by route, method and status',
      ['route', 'method', 'status'],
      () => this.pendingRequests,
    );
    this.routeSeconds = new BoundSeries(
      latency('gatehouse_http_request_duration_seconds', 'HTTP request latency', ['route']),
      'route',
    );
    this.toolCalls = counter(
      'gatehouse_tool_calls_total',
      'Tool calls by tool, outcome and error code',
      ['tool', 'outcome', 'code'],
      () => this.pendingToolCalls,
    );
    this.toolCallSeconds = new BoundSeries(
      latency('gatehouse_tool_call_duration_seconds', 'Tool call latency', ['tool']),
      'tool',
    );
    this.authFailures = counter('gatehouse_auth_failures_total', 'Refused credentials by reason', ['reason']);
    this.rejected = counter(
      'gatehouse_http_rejected_total',
      'Requests refused before reaching MCP (origin, host, rate_limited, concurrency, too_large, …)',
      ['reason'],
    );
    const metrics = this;
    this.inflight = new Gauge({
      name: 'gatehouse_http_inflight',
      help: 'Requests in flight',
      registers,
      collect() {
        this.set(metrics.inflightNow);
      },
    });
    this.sessions = new Gauge({
      name: 'gatehouse_http_sessions',
      help: 'Open 2025 sessions',
      registers,
      collect() {
        this.set(sessionCount());
      },
    });
    new Gauge({
      name: 'gatehouse_upstream_circuit_state',
      help: 'Upstream circuit breaker: 0 closed, 1 half-open, 2 open, 3 isolated',
      registers,
      collect() {
        const state = runtime.upstream?.circuitState;
        this.set(state ? CIRCUIT[state] : 0);
      },
    });
  }

  /** One answered HTTP request, counted by route, method and status, and how long it took. */
  countRequest(route: string, method: string, status: number, seconds: number): void {
    this.routeSeconds.observe(route, seconds);
    this.pendingRequests.add(`${route}\u0000${method}\u0000${status}`, () => ({
      route,
      method,
      status: String(status),
    }));
  }

  /** Tool-call metrics come from the audit trail: one call record per answered request. */
  observeAudit(record: AuditEntry): void {
    if (record.event !== 'call' || record.kind !== 'tool') return;
    const { name: tool, outcome } = record;
    const code = record.errorCode ?? '';
    this.pendingToolCalls.add(`${tool}\u0000${outcome}\u0000${code}`, () => ({ tool, outcome, code }));
    if (typeof record.durationMs === 'number')
      this.toolCallSeconds.observe(record.name, record.durationMs / 1000);
  }
}
