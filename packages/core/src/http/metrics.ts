import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { AuditEntry } from '../audit/record.ts';
import type { Runtime } from '../call/runtime.ts';

const CIRCUIT = { closed: 0, 'half-open': 1, open: 2, isolated: 3 } as const;
/** Latency buckets (seconds) of both duration histograms: 5 ms to 30 s. */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** Prometheus metrics for one process, on its own registry (no global state). */
export class HttpMetrics {
  readonly registry = new Registry();
  readonly requests: Counter<'route' | 'method' | 'status'>;
  readonly requestSeconds: Histogram<'route'>;
  readonly toolCalls: Counter<'tool' | 'outcome' | 'code'>;
  readonly toolSeconds: Histogram<'tool'>;
  readonly authFailures: Counter<'reason'>;
  readonly rejected: Counter<'reason'>;
  readonly inflight: Gauge;
  readonly sessions: Gauge;

  constructor(runtime: Runtime, sessionCount: () => number) {
    const registers = [this.registry];
    this.registry.setDefaultLabels({ server: runtime.definition.name });
    const counter = <L extends string>(name: string, help: string, labelNames: L[]) =>
      new Counter<L>({ name, help, labelNames, registers });
    const latency = <L extends string>(name: string, help: string, labelNames: L[]) =>
      new Histogram<L>({ name, help, labelNames, buckets: LATENCY_BUCKETS, registers });
    this.requests = counter('gatehouse_http_requests_total', 'HTTP requests by route, method and status', [
      'route',
      'method',
      'status',
    ]);
    this.requestSeconds = latency('gatehouse_http_request_duration_seconds', 'HTTP request latency', [
      'route',
    ]);
    this.toolCalls = counter('gatehouse_tool_calls_total', 'Tool calls by tool, outcome and error code', [
      'tool',
      'outcome',
      'code',
    ]);
    this.toolSeconds = latency('gatehouse_tool_call_duration_seconds', 'Tool call latency', ['tool']);
    this.authFailures = counter('gatehouse_auth_failures_total', 'Refused credentials by reason', ['reason']);
    this.rejected = counter(
      'gatehouse_http_rejected_total',
      'Requests refused before reaching MCP (origin, host, rate_limited, concurrency, too_large, …)',
      ['reason'],
    );
    this.inflight = new Gauge({ name: 'gatehouse_http_inflight', help: 'Requests in flight', registers });
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

  /** Tool-call metrics come from the audit trail: one call record per answered request. */
  observeAudit(record: AuditEntry): void {
    if (record.event !== 'call' || record.kind !== 'tool') return;
    this.toolCalls.inc({ tool: record.name, outcome: record.outcome, code: record.errorCode ?? '' });
    if (typeof record.durationMs === 'number')
      this.toolSeconds.observe({ tool: record.name }, record.durationMs / 1000);
  }
}
