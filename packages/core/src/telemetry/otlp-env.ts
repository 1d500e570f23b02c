/**
 * What the standard OTEL_* variables ask of one signal (traces or metrics), read the same way for
 * both: whether OTLP export is wanted, over which protocol, and the resource naming this server.
 */
type Signal = 'TRACES' | 'METRICS';
type Resources = typeof import('@opentelemetry/resources');

/**
 * Wanted when OTEL_<SIGNAL>_EXPORTER lists `otlp`, or an OTLP endpoint (the signal's or the common one)
 * is set, and OTEL_SDK_DISABLED is not true. An exporter list without `otlp` (e.g. `none`) turns it off.
 */
export function otlpRequested(env: NodeJS.ProcessEnv, signal: Signal): boolean {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return false;
  const exporters = (env[`OTEL_${signal}_EXPORTER`] ?? '')
    .split(',')
    .map((name) => name.trim().toLowerCase())
    .filter(Boolean);
  if (exporters.length > 0) return exporters.includes('otlp');
  return Boolean(
    env[`OTEL_EXPORTER_OTLP_${signal}_ENDPOINT`]?.trim() || env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim(),
  );
}

/** The OTLP protocol asked for (protobuf by default), or `{ unsupported }` for anything but OTLP over HTTP. */
export function otlpProtocol(
  env: NodeJS.ProcessEnv,
  signal: Signal,
): 'http/protobuf' | 'http/json' | { unsupported: string } {
  const protocol = (
    env[`OTEL_EXPORTER_OTLP_${signal}_PROTOCOL`] ??
    env.OTEL_EXPORTER_OTLP_PROTOCOL ??
    'http/protobuf'
  )
    .trim()
    .toLowerCase();
  return protocol === 'http/protobuf' || protocol === 'http/json' ? protocol : { unsupported: protocol };
}

/** service.name and service.version of this server; OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES still win. */
export function serviceResource(resources: Resources, name: string, version: string) {
  return resources
    .defaultResource()
    .merge(resources.resourceFromAttributes({ 'service.name': name, 'service.version': version }))
    .merge(resources.detectResources({ detectors: [resources.envDetector] }));
}
