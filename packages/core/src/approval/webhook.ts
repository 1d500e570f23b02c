/**
 * The optional webhook: pending and decided approvals as JSON, signed with
 * HMAC-SHA256 over `<timestamp>.<body>` in `X-Gatehouse-Signature`
 * (`t=<unix s>,v1=<hex>`). Best effort: bounded in time, no redirects followed,
 * a failure is logged and never holds up a call.
 */
import { createHmac } from 'node:crypto';
import type { Logger } from '../telemetry/logger.ts';
import type { ApprovalRow } from './store.ts';

export type WebhookEvent = 'approval.pending' | 'approval.decided';

function webhookSignature(secret: string, timestamp: string, body: string): string {
  return `t=${timestamp},v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

export function announce(
  hook: { url: string; secret: string } | undefined,
  log: Logger,
  event: WebhookEvent,
  row: ApprovalRow,
  link: string,
): void {
  if (!hook) return;
  const body = JSON.stringify({
    event,
    id: row.id,
    server: row.server,
    tool: row.tool,
    requester: row.requester,
    target: row.target ?? null,
    environment: row.environment ?? null,
    status: row.status,
    approvalsRequired: row.required,
    votes: row.votes.map((v) => ({
      approver: v.approver,
      decision: v.decision,
      at: new Date(v.at).toISOString(),
    })),
    createdAt: new Date(row.createdAt).toISOString(),
    expiresAt: new Date(row.expiresAt).toISOString(),
    ...(row.decidedAt ? { decidedAt: new Date(row.decidedAt).toISOString() } : {}),
    url: link,
  });
  const timestamp = String(Math.floor(Date.now() / 1000));
  void fetch(hook.url, {
    method: 'POST',
    redirect: 'manual',
    signal: AbortSignal.timeout(5000),
    headers: {
      'content-type': 'application/json',
      'x-gatehouse-event': event,
      'x-gatehouse-signature': webhookSignature(hook.secret, timestamp, body),
    },
    body,
  })
    .then((res) => {
      if (!res.ok) log.warn({ event, status: res.status }, 'approval webhook refused the delivery');
    })
    .catch((error: unknown) => log.warn({ event, err: (error as Error).message }, 'approval webhook failed'));
}
