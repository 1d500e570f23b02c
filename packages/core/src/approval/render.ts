/**
 * The approval page's HTML: one small document, its own stylesheet, no script
 * and nothing from elsewhere, every value escaped. Readable on a 390×844 phone.
 */
import { maskPiiDeep } from '../define/pii.ts';
import { stripHidden } from '../define/text.ts';
import type { ApprovalRow } from './store.ts';

export const PAGE_HEADERS = {
  'content-security-policy':
    "default-src 'none'; style-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'same-origin',
  'cache-control': 'no-store',
} as const;

export const STYLESHEET = `*{box-sizing:border-box}
body{margin:0;font:16px/1.45 system-ui,sans-serif;color:#1b1f24;background:#f5f6f8}
main{max-width:40rem;margin:0 auto;padding:1rem}
h1{font-size:1.25rem;margin:.25rem 0 1rem}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.35rem .75rem;background:#fff;padding:1rem;border-radius:.5rem;border:1px solid #d8dce2}
dt{font-weight:600;color:#4a525c}
dd{margin:0;overflow-wrap:anywhere}
pre{white-space:pre-wrap;overflow-wrap:anywhere;background:#fff;border:1px solid #d8dce2;border-radius:.5rem;padding:.75rem;font-size:.9rem}
.danger{color:#a4161a;font-weight:700}
.note{padding:.75rem;border-radius:.5rem;background:#fff3cd;border:1px solid #e6c65c}
form{display:grid;gap:.75rem;margin-top:1rem}
label{font-weight:600}
textarea{width:100%;min-height:5rem;font:inherit;padding:.5rem;border-radius:.4rem;border:1px solid #9aa3ad}
.buttons{display:grid;grid-template-columns:1fr 1fr;gap:.75rem}
button{font:inherit;font-weight:700;padding:.85rem;border-radius:.5rem;border:0;color:#fff}
button[value=approve]{background:#1a7f37}
button[value=decline]{background:#a4161a}
`;

const esc = (value: unknown): string =>
  String(value).replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );

function document(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>${esc(title)}</title>
<link rel="stylesheet" href="/approvals/style.css">
</head><body><main>${body}</main></body></html>`;
}

function htmlResponse(status: number, title: string, body: string): Response {
  return new Response(document(title, body), {
    status,
    headers: { ...PAGE_HEADERS, 'content-type': 'text/html; charset=utf-8' },
  });
}

/** A refusal or an outcome, in one sentence. */
export const notice = (status: number, title: string, message: string): Response =>
  htmlResponse(status, title, `<h1>${esc(title)}</h1><p class="note">${esc(message)}</p>`);

const when = (ms: number | undefined) =>
  ms === undefined ? '—' : new Date(ms).toISOString().replace('.000Z', 'Z');

function clean(value: unknown): unknown {
  if (typeof value === 'string') return stripHidden(value);
  if (Array.isArray(value)) return value.map(clean);
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, clean(v)]));
  return value;
}

export function approvalPage(
  row: ApprovalRow,
  view: {
    approver: string;
    seesPersonalData: boolean;
    csrf: string;
    action: string;
    canVote: string | undefined;
  },
): Response {
  const args = view.seesPersonalData ? clean(row.args) : maskPiiDeep(clean(row.args));
  const approvals = row.votes.filter((v) => v.decision === 'approve').length;
  const rows: [string, string][] = [
    ['Server', esc(row.server)],
    [
      'Action',
      `${esc(row.title)} (<code>${esc(row.tool)}</code>)${row.effect === 'destructive' ? ' <span class="danger">destructive</span>' : ''}`,
    ],
    ['Target', esc(row.target ?? '—')],
    ['Environment', esc(row.environment ?? '—')],
    ['Requested by', esc(row.requester)],
    ['Requested at', when(row.createdAt)],
    ['Expires at', when(row.expiresAt)],
    ['Status', esc(row.status)],
    ['Approvals', `${approvals} of ${row.required}${row.fourEyes ? ' (not the requester)' : ''}`],
    ['You are', esc(view.approver)],
  ];
  const form = view.canVote
    ? `<p class="note">${esc(view.canVote)}</p>`
    : `<form method="post" action="${esc(view.action)}">
<input type="hidden" name="csrf" value="${esc(view.csrf)}">
<label for="reason">Reason</label>
<textarea id="reason" name="reason" maxlength="500" required></textarea>
<div class="buttons"><button type="submit" name="decision" value="approve">Approve</button><button type="submit" name="decision" value="decline">Decline</button></div>
</form>`;
  return htmlResponse(
    200,
    `Approve ${row.tool}?`,
    `<h1>Approve this action?</h1>
<dl>${rows.map(([k, v]) => `<dt>${k}</dt><dd>${v}</dd>`).join('')}</dl>
<h2>Arguments</h2>
<pre>${esc(JSON.stringify(args, null, 2))}</pre>
<p>It runs once, with exactly these arguments, when its requester calls again.</p>
${form}`,
  );
}
