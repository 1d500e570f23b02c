/**
 * OpenTelemetry metrics from the audit trail's records, over stdio as over
 * HTTP, off unless the standard OTEL_* variables ask for them. As with
 * tracing, nothing of OpenTelemetry is loaded until then (cold start is
 * unchanged): startMetrics imports the metrics SDK and the OTLP/HTTP exporter
 * on demand and follows the trail (`AuditLog.observe`), so every answered
 * call counts once, the way it was recorded.
 *
 * Names follow the MCP semantic conventions: the `mcp.server.operation.duration`
 * histogram (seconds) with `mcp.method.name`, `gen_ai.tool.name` /
 * `gen_ai.prompt.name`, `gen_ai.operation.name`, `error.type` and
 * `network.transport`, plus Gatehouse's `gatehouse.outcome` and
 * `gatehouse.decision`. Attributes carry names and codes only, never argument
 * values.
 */
import type { Attributes, Histogram } from '@opentelemetry/api';
import type { AuditLog } from '../audit/log.ts';
import type { AuditEntry } from '../audit/record.ts';
import type { Logger } from './logger.ts';
import { otlpProtocol, otlpRequested, serviceResource } from './otlp-env.ts';

let stop: (() => Promise<void>) | undefined;

const METHOD: Record<string, string> = {
  tool: 'tools/call',
  resource: 'resources/read',
  prompt: 'prompts/get',
};

/** The attributes of one call record: names, codes and the transport, never arguments. */
function operationAttributes(record: AuditEntry, transport: 'pipe' | 'tcp'): Attributes | undefined {
  const method = METHOD[record.kind];
  if (record.event !== 'call' || !method) return undefined;
  const attributes: Attributes = {
    'mcp.method.name': method,
    'network.transport': transport,
    'gatehouse.outcome': record.outcome,
    'gatehouse.decision': record.decision,
  };
  if (record.kind === 'tool') {
    attributes['gen_ai.operation.name'] = 'execute_tool';
    attributes['gen_ai.tool.name'] = record.name;
  } else if (record.kind === 'prompt') attributes['gen_ai.prompt.name'] = record.name;
  else attributes['gatehouse.resource'] = record.name;
  if (record.outcome !== 'ok') attributes['error.type'] = record.errorCode ?? record.outcome;
  return attributes;
}

/** Boundaries the MCP conventions advise for `mcp.server.operation.duration`. */
const BUCKETS = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60, 120, 300];

/**
 * Starts exporting when the environment asks for it (OTLP over HTTP: protobuf,
 * or JSON with OTEL_EXPORTER_OTLP_[METRICS_]PROTOCOL=http/json; every
 * OTEL_METRIC_EXPORT_INTERVAL ms, default 60 s). Never fails the server.
 */
export async function startMetrics(options: {
  name: string;
  version: string;
  env: NodeJS.ProcessEnv;
  log: Logger;
  audit: AuditLog;
  transport: 'pipe' | 'tcp';
}): Promise<void> {
  const { env, log } = options;
  if (stop || !otlpRequested(env, 'METRICS')) return;
  const protocol = otlpProtocol(env, 'METRICS');
  if (typeof protocol !== 'string') {
    log.warn(
      { protocol: protocol.unsupported },
      'metrics off: only the OTLP protocols http/protobuf and http/json are supported',
    );
    return;
  }
  try {
    const [sdk, resources, exporterModule] = await Promise.all([
      import('@opentelemetry/sdk-metrics'),
      import('@opentelemetry/resources'),
      protocol === 'http/json'
        ? import('@opentelemetry/exporter-metrics-otlp-http')
        : import('@opentelemetry/exporter-metrics-otlp-proto'),
    ]);
    const interval = Number(env.OTEL_METRIC_EXPORT_INTERVAL ?? 60_000);
    const resource = serviceResource(resources, options.name, options.version);
    const reader = new sdk.PeriodicExportingMetricReader({
      exporter: new exporterModule.OTLPMetricExporter(),
      exportIntervalMillis: Number.isFinite(interval) && interval >= 100 ? interval : 60_000,
    });
    const provider = new sdk.MeterProvider({ resource, readers: [reader] });
    const meter = provider.getMeter('@gatehouse/core', options.version);
    const duration: Histogram = meter.createHistogram('mcp.server.operation.duration', {
      unit: 's',
      description: 'MCP request duration as observed on the server, from receipt until the result is sent',
      advice: { explicitBucketBoundaries: BUCKETS },
    });
    const calls = meter.createCounter('gatehouse.mcp.server.calls', {
      description: 'Answered MCP calls by outcome and policy decision',
    });
    let running = true;
    options.audit.observe((record) => {
      if (!running) return;
      const attributes = operationAttributes(record, options.transport);
      if (!attributes) return;
      calls.add(1, attributes);
      if (typeof record.durationMs === 'number') duration.record(record.durationMs / 1000, attributes);
    });
    stop = async () => {
      running = false;
      await provider.shutdown();
    };
    log.info({ protocol }, 'metrics to OTLP');
  } catch (error) {
    log.warn({ err: error }, 'metrics off: the OpenTelemetry metrics SDK could not start');
  }
}

/** Exports what is recorded and stops, within a bound so a dead collector cannot hold up shutdown. */
export async function shutdownMetrics(timeoutMs = 5_000): Promise<void> {
  const current = stop;
  if (!current) return;
  stop = undefined;
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
