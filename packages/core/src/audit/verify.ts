/**
 * Checking a trail: the HMAC chain of the log, then the log against every
 * signed checkpoint of its anchor file. The chain shows an edit, deletion or
 * reordering inside the log; the checkpoints show what the chain cannot — its
 * end cut, the file emptied, or the whole of it re-chained under a new key.
 */
import type { KeyObject } from 'node:crypto';
import { readSync } from 'node:fs';
import { parseCheckpoint, type SignedCheckpoint, signatureValid } from './anchor.ts';
import { chainMac, GENESIS, hmacKeyId, sha256, splitMac, withFile } from './chain.ts';

export type VerifyResult =
  | { ok: true; events: number }
  | { ok: false; events: number; brokenAt: number; reason: string };

/** Calls `each` with every line of a file, read in chunks (an audit file may exceed V8's largest string). */
function eachLine(file: string, each: (line: string) => void): void {
  withFile(file, (fd) => {
    const buffer = Buffer.alloc(1024 * 1024);
    let carry = Buffer.alloc(0);
    for (let read = readSync(fd, buffer); read > 0; read = readSync(fd, buffer)) {
      let chunk = Buffer.concat([carry, buffer.subarray(0, read)]);
      for (let nl = chunk.indexOf(10); nl !== -1; nl = chunk.indexOf(10)) {
        if (nl > 0) each(chunk.subarray(0, nl).toString('utf8'));
        chunk = chunk.subarray(nl + 1);
      }
      carry = Buffer.from(chunk);
    }
    if (carry.length > 0) each(carry.toString('utf8'));
  });
}

interface Walk {
  result: VerifyResult;
  /** The stored MAC of record n (1-based), for each n asked for. */
  macs: Map<number, string>;
}

function walkChain(file: string, key: string, wanted: ReadonlySet<number>): Walk {
  let prev = GENESIS;
  let events = 0;
  let broken: { brokenAt: number; reason: string } | undefined;
  const macs = new Map<number, string>();
  eachLine(file, (line) => {
    events += 1;
    const parts = splitMac(line);
    if (wanted.has(events)) macs.set(events, parts?.mac ?? '');
    if (broken) return;
    if (!parts) broken = { brokenAt: events, reason: 'no MAC on this line' };
    else if (chainMac(key, prev, parts.body) !== parts.mac)
      broken = { brokenAt: events, reason: 'MAC mismatch (edited, deleted or reordered)' };
    else prev = parts.mac;
  });
  return { result: broken ? { ok: false, events, ...broken } : { ok: true, events }, macs };
}

/** Recomputes the chain; names the first line (1-based) that does not verify. */
export function verifyAuditFile(file: string, key: string): VerifyResult {
  return walkChain(file, key, new Set()).result;
}

export interface TrailInput {
  /** The log; missing is read as empty (a deleted log is checked against its checkpoints). */
  file: string;
  key: string;
  /** The anchor file's lines; undefined to check the chain alone. */
  anchorLines?: string[];
  anchorFile?: string;
  publicKeys: KeyObject[];
  /** Where the public keys came from, for the report. */
  publicKeySource: string;
  /** Whether the operator gave the public key (rather than the copy beside the anchors). */
  pinned: boolean;
  exists: boolean;
}

export interface TrailReport {
  ok: boolean;
  /** First line: the verdict; then any further problems and notes. */
  lines: string[];
}

function checkAnchors(
  input: TrailInput,
  lines: string[],
): { checkpoints: SignedCheckpoint[]; problems: string[] } {
  const problems: string[] = [];
  const checkpoints: SignedCheckpoint[] = [];
  let previous: SignedCheckpoint | undefined;
  for (const [index, line] of lines.entries()) {
    const checkpoint = parseCheckpoint(line);
    if (!checkpoint) {
      problems.push(`anchor line ${index + 1} of ${input.anchorFile} is not a checkpoint`);
      continue;
    }
    if (!input.publicKeys.some((key) => signatureValid(checkpoint, key)))
      problems.push(
        `checkpoint ${checkpoint.seq} is not signed by the public key (${input.publicKeySource})`,
      );
    const follows = previous
      ? checkpoint.seq === previous.seq + 1 && checkpoint.prev === sha256(previous.line)
      : checkpoint.seq === 1 && checkpoint.prev === 'none';
    if (!follows)
      problems.push(
        `checkpoint ${checkpoint.seq} does not follow ${previous ? `checkpoint ${previous.seq}` : 'the start of the anchor file'} (checkpoints removed or reordered)`,
      );
    checkpoints.push(checkpoint);
    previous = checkpoint;
  }
  return { checkpoints, problems };
}

/** Checks one log: its chain, then (unless `anchorLines` is undefined) against every checkpoint. */
export function verifyTrail(input: TrailInput): TrailReport {
  const anchors = input.anchorLines ? checkAnchors(input, input.anchorLines) : undefined;
  const wanted = new Set(anchors?.checkpoints.map((c) => c.records));
  const walk: Walk = input.exists
    ? walkChain(input.file, input.key, wanted)
    : { result: { ok: true, events: 0 }, macs: new Map() };
  const { result } = walk;
  const problems: string[] = [];
  const keyId = hmacKeyId(input.key);
  if (!result.ok) {
    const rekeyed = anchors?.checkpoints.some((c) => c.keyId !== keyId);
    problems.push(
      `event ${result.brokenAt} of ${result.events}: ${result.reason}${rekeyed ? '; the audit key is not the one the checkpoints name (key file replaced?)' : ''}`,
    );
  }
  if (!anchors) {
    const verdict = problems.length ? `broken: ${problems[0]}` : `ok: ${result.events} events, chain intact`;
    return { ok: problems.length === 0, lines: [`${verdict} (chain only: no checkpoints checked)`] };
  }
  problems.push(...anchors.problems);
  const latest = anchors.checkpoints.at(-1);
  if (!latest) problems.push(`no checkpoints in ${input.anchorFile}`);
  // Newest first: the checkpoint vouching for the most records names the most that is missing.
  for (const checkpoint of [...anchors.checkpoints].reverse()) {
    const problem = againstLog(checkpoint, result.events, walk.macs, keyId);
    if (problem) {
      problems.push(problem);
      break;
    }
  }
  const lines: string[] = [];
  if (problems.length) lines.push(`broken: ${problems[0]}`, ...problems.slice(1).map((p) => `  also: ${p}`));
  else
    lines.push(
      `ok: ${result.events} events, chain intact; checkpoint ${latest!.seq} (${latest!.time}, ${latest!.reason}) vouches for ${latest!.records}, signed${input.pinned ? '' : ' (public key from the anchor folder: pin your own copy with --public-key)'}`,
    );
  if (latest && result.events >= latest.records)
    lines.push(
      `  residual window: ${result.events - latest.records} record(s) after checkpoint ${latest.seq} not yet vouched for`,
    );
  return { ok: problems.length === 0, lines };
}

function againstLog(
  checkpoint: SignedCheckpoint,
  events: number,
  macs: ReadonlyMap<number, string>,
  keyId: string,
): string | undefined {
  if (events < checkpoint.records)
    return `log ends at record ${events}, checkpoint ${checkpoint.seq} vouches for ${checkpoint.records} records (${checkpoint.records - events} missing: cut or emptied)`;
  const stored = checkpoint.records === 0 ? GENESIS : macs.get(checkpoint.records);
  if (stored === checkpoint.mac) return undefined;
  const how =
    checkpoint.keyId !== keyId
      ? 're-keyed: the audit key is not the one the checkpoint names'
      : 'edited, reordered or re-chained';
  return `record ${checkpoint.records} is not the one checkpoint ${checkpoint.seq} vouches for (${how})`;
}
