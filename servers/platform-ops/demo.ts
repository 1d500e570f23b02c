/**
 * platform-ops' steps in `pnpm demo` (tooling/demo): a read-only operator, a write it cannot see,
 * a production rollback refused for want of scope, an approved staging rollback, and the audit trail.
 */
import { readFileSync } from 'node:fs';
import type { DemoKit } from '@gatehouse/demo/kit';

export default async function demo(kit: DemoKit): Promise<void> {
  const { step, show, summarise } = kit;
  step('platform-ops as a read-only operator (the default: only platform-ops:read)');
  const reader = await kit.connect(kit.env());
  show(`negotiated protocol: ${reader.getNegotiatedProtocolVersion?.() ?? 'n/a'}`);
  show(`tools: ${(await reader.listTools()).tools.map((t) => t.name).join(', ')}`);
  show(
    summarise(await reader.callTool({ name: 'get_service_health', arguments: { service: 'checkout-api' } })),
  );
  const context = await reader.callTool({
    name: 'get_deploy_context',
    arguments: { service: 'checkout-api', deploys: 2 },
  });
  const ctx = context.structuredContent as {
    service: { team: string; onCall: { primary: string } };
    recentDeploys: Array<{ version: string; status: string }>;
  };
  show(
    `deploy context: team ${ctx.service.team}, on call ${ctx.service.onCall.primary}, last deploys ${ctx.recentDeploys.map((d) => `${d.version} (${d.status})`).join(', ')}`,
  );
  step('a write the read-only operator cannot even see');
  show(
    await reader
      .callTool({
        name: 'rollback_deploy',
        arguments: { service: 'checkout-api', environment: 'staging', reason: 'demo' },
      })
      .then(summarise, (e: Error) => `refused: ${e.message}`),
  );
  await reader.close();

  step('platform-ops with write scope but without platform-ops:prod');
  const writer = await kit.connect(kit.env({ PLATFORM_OPS_SCOPES: 'platform-ops:read,platform-ops:write' }));
  show(
    summarise(
      await writer.callTool({
        name: 'rollback_deploy',
        arguments: {
          service: 'checkout-api',
          environment: 'production',
          reason: 'latency regression after the last deploy',
        },
      }),
    ),
  );
  step('an approved rollback in staging (the server asks the human through the client)');
  show(
    summarise(
      await writer.callTool({
        name: 'rollback_deploy',
        arguments: {
          service: 'checkout-api',
          environment: 'staging',
          reason: 'latency regression after the last deploy',
        },
      }),
    ),
  );
  await writer.close();

  step('the audit trail (one line per request; intent lines precede side effects)');
  for (const line of readFileSync(kit.auditFile, 'utf8').trim().split('\n')) {
    const e = JSON.parse(line) as Record<string, unknown>;
    show(
      `  ${e.time} ${String(e.event).padEnd(6)} ${String(e.name).padEnd(22)} ${String(e.decision).padEnd(18)} ${String(e.outcome).padEnd(9)} ${e.errorCode ?? ''}`,
    );
  }
  show(`verify-audit: ${await kit.run(['verify-audit', kit.auditFile])}`);
}
