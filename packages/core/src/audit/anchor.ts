/**
 * Anchors: signed checkpoints of an audit chain, kept in a directory apart
 * from the log. A checkpoint says "this log held `records` records, the last
 * with MAC `mac`", signed with Ed25519 so a verifier needs only the public key.
 * The chain alone cannot see its end being cut or the whole file re-chained
 * under a new key; a checkpoint can, for every record it vouches for. Each
 * checkpoint names the previous one's hash (`prev`), so dropping one from the
 * middle of the anchor file shows too.
 */
import { type KeyObject, sign, verify } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fsyncSync,
  openSync,
  readFileSync,
  renameSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { basename, join } from 'node:path';
import { ConfigError } from '../config/env.ts';
import { lineBefore, sha256, withFile } from './chain.ts';
import { errorCode, type SigningKey } from './keys.ts';

export type CheckpointReason = 'start' | 'records' | 'interval' | 'close';

export interface Checkpoint {
  v: 1;
  server: string;
  replica: string;
  /** The log's absolute path when the checkpoint was made. */
  file: string;
  /** 1, 2, 3, … per anchor file, never reused. */
  seq: number;
  /** Records in the log when made: the chain from genesis up to and including this one. */
  records: number;
  /** The MAC of record `records` (`genesis` when 0). */
  mac: string;
  /** The log's size in bytes when made. */
  bytes: number;
  /** Names the HMAC key the chain was written with (one-way). */
  keyId: string;
  /** Names the signing key (a hash of its public key). */
  signer: string;
  reason: CheckpointReason;
  time: string;
  /** Hash of the previous checkpoint's line; `none` for the first. */
  prev: string;
}

export interface SignedCheckpoint extends Checkpoint {
  sig: string;
  /** The line as stored. */
  line: string;
}

/** The anchor file of a log: its name and a hash of its absolute path, in the anchor directory. */
export function anchorFileFor(anchorDir: string, logFile: string): string {
  return join(anchorDir, `${basename(logFile)}.${sha256(logFile).slice(0, 12)}.anchors.jsonl`);
}

/** Where the server leaves its checkpoints' public key (PEM), beside the anchors. */
export function publicKeyFileFor(anchorDir: string, server: string): string {
  return join(anchorDir, `${server}.anchor-key.pub.pem`);
}

function splitSig(line: string): { body: string; sig: string } | undefined {
  const match = /,"sig":"([A-Za-z0-9_-]+)"}$/.exec(line);
  return match?.[1] ? { body: `${line.slice(0, match.index)}}`, sig: match[1] } : undefined;
}

export function parseCheckpoint(line: string): SignedCheckpoint | undefined {
  const parts = splitSig(line);
  if (!parts) return undefined;
  try {
    const value = JSON.parse(parts.body) as Checkpoint;
    if (value.v !== 1 || !Number.isInteger(value.seq) || !Number.isInteger(value.records)) return undefined;
    return { ...value, sig: parts.sig, line };
  } catch {
    return undefined;
  }
}

export function signatureValid(checkpoint: SignedCheckpoint, publicKey: KeyObject): boolean {
  const parts = splitSig(checkpoint.line);
  if (!parts) return false;
  try {
    return verify(null, Buffer.from(parts.body), publicKey, Buffer.from(parts.sig, 'base64url'));
  } catch {
    return false;
  }
}

/** Every line of an anchor file, parsed (undefined for a line that is not a checkpoint). */
export function readCheckpoints(anchorFile: string): Array<SignedCheckpoint | undefined> {
  return readFileSync(anchorFile, 'utf8')
    .split('\n')
    .filter((line) => line.length > 0)
    .map(parseCheckpoint);
}

/** The last checkpoint of an anchor file, read from its end; undefined when there is none. */
export function lastCheckpoint(anchorFile: string, what: string): SignedCheckpoint | undefined {
  if (!existsSync(anchorFile)) return undefined;
  let line: string | undefined;
  try {
    line = withFile(anchorFile, (fd) => lineBefore(fd));
  } catch (error) {
    throw new ConfigError(`${what}: cannot read the anchor file ${anchorFile} (${errorCode(error)})`);
  }
  if (line === undefined) return undefined;
  const checkpoint = parseCheckpoint(line);
  if (!checkpoint) throw new ConfigError(`${what}: the last line of ${anchorFile} is not a checkpoint`);
  return checkpoint;
}

/** Writes the public key beside the anchors; a different key already there is kept aside, not lost. */
export function writePublicKey(anchorDir: string, server: string, signing: SigningKey): string {
  const file = publicKeyFileFor(anchorDir, server);
  const pem = signing.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  if (existsSync(file)) {
    if (readFileSync(file, 'utf8') === pem) return file;
    renameSync(file, `${file}.replaced-${Date.now()}`);
  }
  // Written aside and renamed into place: a server starting at the same moment never reads half a key.
  const aside = `${file}.${process.pid}.tmp`;
  writeFileSync(aside, pem, { mode: 0o644 });
  renameSync(aside, file);
  return file;
}

/** Appends signed checkpoints to one anchor file: a small synchronous write each. */
export class AnchorWriter {
  readonly file: string;
  private readonly fd: number;
  private readonly signing: SigningKey;
  private readonly base: Pick<Checkpoint, 'server' | 'replica' | 'file' | 'keyId'>;
  private seq: number;
  private prev: string;
  /** The last checkpoint written or found. */
  latest: SignedCheckpoint | undefined;

  constructor(options: {
    file: string;
    signing: SigningKey;
    base: Pick<Checkpoint, 'server' | 'replica' | 'file' | 'keyId'>;
    last: SignedCheckpoint | undefined;
    what: string;
  }) {
    this.file = options.file;
    this.signing = options.signing;
    this.base = options.base;
    this.latest = options.last;
    this.seq = options.last?.seq ?? 0;
    this.prev = options.last ? sha256(options.last.line) : 'none';
    try {
      this.fd = openSync(this.file, 'a', 0o600);
    } catch (error) {
      throw new ConfigError(
        `${options.what}: cannot write the anchor file ${this.file} (${errorCode(error)})`,
      );
    }
  }

  /** Signs and appends one checkpoint; throws when the write fails. */
  write(state: { records: number; mac: string; bytes: number }, reason: CheckpointReason): SignedCheckpoint {
    const checkpoint: Checkpoint = {
      v: 1,
      ...this.base,
      seq: this.seq + 1,
      records: state.records,
      mac: state.mac,
      bytes: state.bytes,
      signer: this.signing.keyId,
      reason,
      time: new Date().toISOString(),
      prev: this.prev,
    };
    const body = JSON.stringify(checkpoint);
    const sig = sign(null, Buffer.from(body), this.signing.privateKey).toString('base64url');
    const line = `${body.slice(0, -1)},"sig":"${sig}"}`;
    const data = Buffer.from(`${line}\n`);
    for (let offset = 0; offset < data.length; ) offset += writeSync(this.fd, data, offset);
    this.seq = checkpoint.seq;
    this.prev = sha256(line);
    this.latest = { ...checkpoint, sig, line };
    return this.latest;
  }

  close(): void {
    try {
      fsyncSync(this.fd);
    } finally {
      closeSync(this.fd);
    }
  }
}
