/**
 * Opening an audit trail: the file placed (its folder made), locked for one
 * writer, its keys found or generated apart from it, and — for a regular file —
 * its anchors read, checked against the log and extended by a start
 * checkpoint. Every problem is one ConfigError line naming the variable to fix,
 * and whatever was opened before it is let go again.
 */
import { createSecretKey, type KeyObject } from 'node:crypto';
import { closeSync, fstatSync, openSync, realpathSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { ConfigError } from '../config/env.ts';
import {
  AnchorWriter,
  anchorFileFor,
  lastCheckpoint,
  type SignedCheckpoint,
  writePublicKey,
} from './anchor.ts';
import { countLines, GENESIS, hmacKeyId, lineBefore, macOf } from './chain.ts';
import {
  defaultAnchorDir,
  defaultKeyDir,
  ensureDir,
  errorCode,
  loadSigningKey,
  resolveAuditKey,
  type TrailNames,
  trailNames,
} from './keys.ts';
import { acquireWriterLock, type WriterLock } from './lock.ts';
import type { AuditOptions, TrailLog } from './log.ts';

interface LogState {
  records: number;
  mac: string;
  bytes: number;
}

export interface OpenTrail {
  file: string | undefined;
  replica: string;
  key: string;
  secret: KeyObject;
  /** The log's descriptor (2, stderr, when there is no file). */
  fd: number;
  /** Held for a regular file only (a device such as /dev/full has no chain to protect). */
  lock: WriterLock | undefined;
  anchor: AnchorWriter | undefined;
  publicKey: string | undefined;
  state: LogState;
}

export function openTrail(options: AuditOptions, log: TrailLog): OpenTrail {
  const names = trailNames(options.envPrefix);
  const replica = options.replica ?? hostname();
  const file = options.file ? placeFile(options.file, replica, names) : undefined;
  const regular = file !== undefined && isRegularOrMissing(file);
  const lock = regular ? acquireWriterLock(file, names.file) : undefined;
  if (lock?.tookOver)
    log.warn({ lock: lock.file, ...lock.tookOver }, 'audit lock left by a dead process taken over');
  let fd: number | undefined;
  let anchor: AnchorWriter | undefined;
  try {
    const keyDir = options.keyDir ?? defaultKeyDir(options.server);
    const key = resolveAuditKey({ key: options.key, file, keyDir, names });
    if (key.created) log.info({ keyFile: key.file }, 'audit key generated, apart from the log');
    if (key.beside)
      log.warn(
        { keyFile: key.file },
        `audit key read from beside the log: move it to ${names.keyDir} or give ${names.key}`,
      );
    const secret = createSecretKey(Buffer.from(key.key, 'utf8'));
    fd = file ? openLog(file, regular, names) : 2;
    const opened = { file, replica, key: key.key, secret, fd, lock };
    if (!regular || !file)
      return {
        ...opened,
        anchor: undefined,
        publicKey: undefined,
        state: { records: 0, mac: GENESIS, bytes: 0 },
      };
    const anchorDir = options.anchorDir ?? defaultAnchorDir(options.server);
    const signing = loadSigningKey({ pem: options.signingKey, keyDir, names });
    if (signing.created) log.info({ keyFile: signing.file }, 'audit checkpoint signing key generated');
    ensureDir(anchorDir, names.anchorDir);
    const anchorFile = anchorFileFor(anchorDir, file);
    const last = lastCheckpoint(anchorFile, names.anchorDir);
    const keyId = hmacKeyId(secret);
    const state = logState(fd, file, { last, keyId, anchorFile, names });
    if (last && last.signer !== signing.keyId)
      log.warn(
        { anchors: anchorFile, was: last.signer, now: signing.keyId },
        'audit checkpoint signing key changed',
      );
    anchor = new AnchorWriter({
      file: anchorFile,
      signing,
      base: { server: options.server, replica, file, keyId },
      last,
      what: names.anchorDir,
    });
    const publicKeyFile = writePublicKey(anchorDir, options.server, signing);
    anchor.write(state, 'start');
    log.info(
      { anchors: anchorFile, publicKey: signing.publicText, publicKeyFile, replica },
      'audit checkpoints are signed with this Ed25519 public key: keep a copy to verify the trail',
    );
    return { ...opened, anchor, publicKey: signing.publicText, state };
  } catch (error) {
    try {
      anchor?.close();
      if (fd !== undefined && fd !== 2) closeSync(fd);
    } finally {
      lock?.release();
    }
    if (error instanceof ConfigError) throw error;
    throw new ConfigError(`${names.file}: cannot start the audit trail (${errorCode(error)})`);
  }
}

function isRegularOrMissing(file: string): boolean {
  try {
    return statSync(file).isFile();
  } catch {
    return true;
  }
}

/** The audit file's path with `{replica}` filled in, its folder made (0700) and resolved. */
function placeFile(file: string, replica: string, names: TrailNames): string {
  const path = resolve(file.replaceAll('{replica}', replica.replace(/[^A-Za-z0-9._-]/g, '-')));
  let stat: ReturnType<typeof statSync> | undefined;
  try {
    stat = statSync(path);
  } catch (error) {
    if (errorCode(error) !== 'ENOENT' && errorCode(error) !== 'ENOTDIR')
      throw new ConfigError(`${names.file}: cannot use ${file} (${errorCode(error)})`);
  }
  if (stat?.isDirectory()) throw new ConfigError(`${names.file}: ${file} is a folder, not a file`);
  if (stat && !stat.isFile()) return path;
  ensureDir(dirname(path), names.file);
  return join(realpathSync(dirname(path)), basename(path));
}

/** A regular file is opened for reading too: its end is read to continue the chain and count records. */
function openLog(file: string, regular: boolean, names: TrailNames): number {
  try {
    return openSync(file, regular ? 'a+' : 'a', 0o600);
  } catch (error) {
    throw new ConfigError(`${names.file}: cannot open ${file} for appending (${errorCode(error)})`);
  }
}

/**
 * Records, last MAC and size of the log being continued. With a checkpoint,
 * only what follows it is read — and the log must still hold what it vouched
 * for: a log cut, emptied, replaced or re-keyed since is refused at start,
 * before new checkpoints could vouch for what is left.
 */
function logState(
  fd: number,
  file: string,
  anchors: { last: SignedCheckpoint | undefined; keyId: string; anchorFile: string; names: TrailNames },
): LogState {
  const { last, keyId, anchorFile, names } = anchors;
  const size = fstatSync(fd).size;
  if (!last) return { records: countLines(fd, 0, size), mac: macOf(lineBefore(fd, size)), bytes: size };
  const short = size < last.bytes;
  const differs = !short && macOf(lineBefore(fd, last.bytes)) !== last.mac;
  if (short || differs || last.keyId !== keyId) {
    const vouched = `checkpoint ${last.seq} (${last.time}) vouches for ${last.records} records`;
    const problem = short
      ? `it holds ${countLines(fd, 0, size)} records, ${vouched}`
      : differs
        ? `record ${last.records} is not the one ${vouched} end with`
        : `the audit key is not the one checkpoint ${last.seq} was made with (key replaced?)`;
    throw new ConfigError(
      `${names.file}: ${file} no longer matches its anchors: ${problem}; run verify-audit on it, then move the log and ${anchorFile} aside to start a new chain`,
    );
  }
  return {
    records: last.records + countLines(fd, last.bytes, size),
    mac: macOf(lineBefore(fd, size)),
    bytes: size,
  };
}
