import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type Sandbox, sandboxControl, startSandbox } from '@gatehouse/sandbox';

export const BIN = resolve(import.meta.dirname, '../dist/bin.js');
/** A recognisable upstream token: it must never show up anywhere a client or log reader could see it. */
export const CANARY = 'sbx_sup_CANARY_5d81b0e2c94f3a67';
export const WRITE_SCOPES = 'support:read,support:write';
export const ALL_SCOPES = 'support:read,support:write,support:credit';

export interface Harness {
  sandbox: Sandbox;
  control: ReturnType<typeof sandboxControl>;
  dir: string;
  /** Env for one server process, with its own audit file. */
  env(extra?: Record<string, string>): Record<string, string> & { SUPPORT_AUDIT_FILE: string };
  /** GET on the sandbox support API with the server's own token (for checking effects). */
  api<T = unknown>(path: string): Promise<T>;
  close(): Promise<void>;
}

export async function startHarness(): Promise<Harness> {
  const sandbox = await startSandbox({ tokens: { support: CANARY } });
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-support-'));
  let n = 0;
  return {
    sandbox,
    control: sandboxControl(sandbox),
    dir,
    env: (extra = {}) => ({
      SUPPORT_API_URL: sandbox.url,
      SUPPORT_API_TOKEN: sandbox.tokens.support,
      SUPPORT_AUDIT_FILE: join(dir, `audit-${++n}.jsonl`),
      SUPPORT_LOG_LEVEL: 'debug',
      ...extra,
    }),
    api: async <T>(path: string) => {
      const response = await fetch(`${sandbox.url}${path}`, {
        headers: { authorization: `Bearer ${sandbox.tokens.support}` },
      });
      if (!response.ok) throw new Error(`sandbox GET ${path}: HTTP ${response.status}`);
      return (await response.json()) as T;
    },
    close: async () => {
      await sandbox.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface TicketSummaryJson {
  id: string;
  customerId: string;
  status: string;
  priority: string;
  createdAt: string;
}

/** Every ticket summary the sandbox has, straight from the upstream (for choosing fixtures). */
export async function allTickets(h: Harness): Promise<TicketSummaryJson[]> {
  const items: TicketSummaryJson[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < 20; page++) {
    const body: { items: TicketSummaryJson[]; nextCursor: string | null } = await h.api(
      `/support/v1/tickets?limit=100${cursor ? `&cursor=${cursor}` : ''}`,
    );
    items.push(...body.items);
    cursor = body.nextCursor;
    if (!cursor) break;
  }
  return items;
}

/** Structured content of a successful result, failing loudly otherwise. */
export function ok<T>(result: object): T {
  const r = result as { isError?: unknown; structuredContent?: unknown; content?: unknown };
  if (r.isError) throw new Error(`tool failed: ${JSON.stringify(r.content)}`);
  return r.structuredContent as T;
}

/** The text fallback of a result (v1 and v2 result types alike). */
export function textOf(result: object): string {
  const content = (result as { content?: Array<{ type: string; text?: string }> }).content ?? [];
  return content.map((c) => c.text ?? '').join('\n');
}

export interface UpstreamTicket {
  id: string;
  customerId: string;
  subject: string;
  body: string;
  comments: Array<{ id: string; author: string; body: string; internal: boolean }>;
}

/** Every full ticket (body and comments), straight from the upstream. */
export async function fullTickets(h: Harness): Promise<UpstreamTicket[]> {
  const summaries = await allTickets(h);
  return Promise.all(summaries.map((t) => h.api<UpstreamTicket>(`/support/v1/tickets/${t.id}`)));
}

/** Customer credits as the upstream records them (the 5 newest). */
export async function creditsOf(
  h: Harness,
  customerId: string,
): Promise<Array<{ id: string; amountCents: number; reason: string }>> {
  return (
    await h.api<{ recentCredits: Array<{ id: string; amountCents: number; reason: string }> }>(
      `/support/v1/customers/${customerId}`,
    )
  ).recentCredits;
}

/** Upstream requests that could have changed something. */
export async function writes(h: Harness) {
  return (await h.control.requests()).filter((r) => r.method !== 'GET');
}
