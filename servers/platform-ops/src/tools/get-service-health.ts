import { z } from 'zod';
import { SCOPES, serviceName, tool } from '../context.ts';
import { Environment, Health } from '../upstream.ts';

export default tool({
  name: 'get_service_health',
  toolset: 'health',
  title: 'Service health',
  description:
    'Current health of one service in one environment: status (healthy/degraded/down), error rate, p99 latency, availability, saturation and active alerts. Use it first when someone reports a problem with a service.',
  effect: 'read',
  scope: SCOPES.read,
  input: z.object({
    service: serviceName,
    environment: Environment.default('production').describe('Environment to check.'),
  }),
  output: Health,
  handler: ({ service, environment }, ctx) => ctx.deps.api.getHealth(service, environment, ctx),
  text: (h) =>
    `${h.service} (${h.environment}) is ${h.status.toUpperCase()} as of ${h.checkedAt}: error rate ${h.signals.errorRate}, p99 ${h.signals.latencyP99Ms} ms, availability ${h.signals.availability}%, saturation ${h.signals.saturation}%. ` +
    (h.alerts.length
      ? `Alerts: ${h.alerts.map((a) => `[${a.severity}] ${a.title}`).join('; ')}`
      : 'No active alerts.'),
});
