/**
 * The shared approval store: pending approvals, the approvers' votes, the
 * decision and the spending of an approval, kept by a real database so every
 * replica sees the same state. node:sqlite is the embedded default (one
 * replica, or several on one host sharing a file); PostgreSQL serves replicas
 * on several hosts. Both apply the transitions below inside one transaction
 * holding the row, so a decision and a spend each happen at most once.
 */
import { z } from 'zod';

const ApprovalStatus = z.enum(['pending', 'approved', 'declined', 'expired', 'spent']);

export const Vote = z.object({
  approver: z.string(),
  decision: z.enum(['approve', 'decline']),
  reason: z.string(),
  at: z.number(),
});
export type Vote = z.infer<typeof Vote>;

/** One approval as stored: what was asked, by whom, and what became of it. */
export const ApprovalRow = z.object({
  id: z.string(),
  /** Principal, tool and arguments digest: the identical call finds its approval by this. */
  binding: z.string(),
  server: z.string(),
  tool: z.string(),
  title: z.string(),
  effect: z.string(),
  /** `kind:id` of the principal who asked. */
  requester: z.string(),
  /** The validated arguments with the tool's sensitive fields concealed (personal data is masked when shown). */
  args: z.record(z.string(), z.unknown()),
  target: z.string().optional(),
  environment: z.string().optional(),
  /** Approvals needed; with fourEyes the requester's own vote never counts. */
  required: z.number().int().min(1),
  fourEyes: z.boolean(),
  createdAt: z.number(),
  expiresAt: z.number(),
  status: ApprovalStatus,
  decidedAt: z.number().optional(),
  reason: z.string().optional(),
  votes: z.array(Vote),
  spentAt: z.number().optional(),
  /** A declined or expired approval is closed once its caller has been told; the next identical call asks anew. */
  closed: z.boolean(),
});
export type ApprovalRow = z.infer<typeof ApprovalRow>;

export type NewApproval = Omit<
  ApprovalRow,
  'status' | 'votes' | 'closed' | 'decidedAt' | 'reason' | 'spentAt'
>;

export type VoteResult =
  | { ok: true; row: ApprovalRow }
  | { ok: false; reason: 'unknown' | 'not-pending' | 'expired' | 'already-voted'; row?: ApprovalRow };

export interface ApprovalStore {
  readonly kind: 'sqlite' | 'postgres';
  /**
   * The live approval of this binding (pending, approved, or declined/expired and not yet
   * reported, which this call then closes), or `fresh` inserted when there is none.
   */
  open(fresh: NewApproval, now: number): Promise<ApprovalRow>;
  get(id: string): Promise<ApprovalRow | undefined>;
  /** One approver's vote, applied atomically: a decline decides, enough approvals decide. */
  vote(id: string, vote: Vote, grantMs: number): Promise<VoteResult>;
  /** Spends an approved approval: true for exactly one caller, before it expires. */
  claim(id: string, now: number): Promise<boolean>;
  close(): Promise<void>;
}

/** What an open row becomes when its identical call comes back at `now`. */
export function onReturn(row: ApprovalRow, now: number): ApprovalRow {
  if ((row.status === 'pending' || row.status === 'approved') && row.expiresAt <= now)
    return { ...row, status: 'expired', closed: true, decidedAt: row.decidedAt ?? row.expiresAt };
  if (row.status === 'declined' || row.status === 'expired') return { ...row, closed: true };
  return row;
}

/** The transition of one vote; the store runs it holding the row. */
export function applyVote(row: ApprovalRow, vote: Vote, grantMs: number): VoteResult {
  if (row.status !== 'pending') return { ok: false, reason: 'not-pending', row };
  if (row.expiresAt <= vote.at) return { ok: false, reason: 'expired', row };
  if (row.votes.some((v) => v.approver === vote.approver)) return { ok: false, reason: 'already-voted', row };
  const votes = [...row.votes, vote];
  if (vote.decision === 'decline')
    return { ok: true, row: { ...row, votes, status: 'declined', decidedAt: vote.at, reason: vote.reason } };
  const approvals = votes.filter((v) => v.decision === 'approve').length;
  if (approvals < row.required) return { ok: true, row: { ...row, votes } };
  // Once decided, the caller has a fresh lifetime to come back for it.
  return {
    ok: true,
    row: {
      ...row,
      votes,
      status: 'approved',
      decidedAt: vote.at,
      reason: vote.reason,
      expiresAt: vote.at + grantMs,
    },
  };
}

/** Parses `<P>_APPROVAL_STORE` and opens the store it names; each driver loads only when used. */
export async function openApprovalStore(spec: string): Promise<ApprovalStore> {
  if (spec.startsWith('postgres://') || spec.startsWith('postgresql://')) {
    const { PostgresApprovalStore } = await import('./store-postgres.ts');
    return PostgresApprovalStore.open(spec);
  }
  if (spec.startsWith('sqlite:')) {
    const { SqliteApprovalStore } = await import('./store-sqlite.ts');
    return SqliteApprovalStore.open(spec.slice('sqlite:'.length) || ':memory:');
  }
  throw new Error('must be sqlite:<path>, sqlite::memory: or postgres://…');
}
