/**
 * Where the audit trail's secrets live: apart from the log they protect. A key
 * kept beside the log protects nothing against whoever can write that folder,
 * so a generated key goes to a key directory of its own (owner-only) under the
 * user's state directory; production gives it from a secret instead.
 *
 * - the HMAC key of the chain: `<P>_AUDIT_KEY`, else `<file>.key` when one
 *   already exists (logs written before keys moved apart; read, never created),
 *   else `<key dir>/audit.key`, generated on first use;
 * - the Ed25519 key signing checkpoints: `<P>_AUDIT_SIGNING_KEY`, else
 *   `<key dir>/anchor-signing.pem`, generated on first use.
 */
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
} from 'node:crypto';
import { existsSync, linkSync, mkdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { ConfigError } from '../config/env.ts';
import { sha256 } from './chain.ts';

/** The variable names start-up errors point at (generic words when the log is built without a prefix). */
export interface TrailNames {
  file: string;
  key: string;
  keyDir: string;
  anchorDir: string;
  signingKey: string;
}

export function trailNames(prefix?: string): TrailNames {
  if (!prefix)
    return {
      file: 'audit file',
      key: 'audit key',
      keyDir: 'audit key folder',
      anchorDir: 'audit anchor folder',
      signingKey: 'audit signing key',
    };
  return {
    file: `${prefix}_AUDIT_FILE`,
    key: `${prefix}_AUDIT_KEY`,
    keyDir: `${prefix}_AUDIT_KEY_DIR`,
    anchorDir: `${prefix}_AUDIT_ANCHOR_DIR`,
    signingKey: `${prefix}_AUDIT_SIGNING_KEY`,
  };
}

/** `$XDG_STATE_HOME/gatehouse/<server>`, or `~/.local/state/gatehouse/<server>`. */
function stateDir(server: string, env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_STATE_HOME;
  return join(xdg && isAbsolute(xdg) ? xdg : join(homedir(), '.local', 'state'), 'gatehouse', server);
}
export const defaultKeyDir = (server: string, env?: NodeJS.ProcessEnv) => join(stateDir(server, env), 'keys');
export const defaultAnchorDir = (server: string, env?: NodeJS.ProcessEnv) =>
  join(stateDir(server, env), 'anchors');

const HMAC_KEY_FILE = 'audit.key';
const SIGNING_KEY_FILE = 'anchor-signing.pem';

export const errorCode = (error: unknown): string =>
  (error as NodeJS.ErrnoException).code ?? (error as Error).message ?? String(error);

/**
 * `mkdir -p` with owner-only folders. Not Node's recursive mkdir: under /proc it
 * spins forever. A file in the way or a folder that cannot be made is one
 * ConfigError line naming `what` (the variable that chose the path).
 */
export function ensureDir(dir: string, what: string): void {
  const missing: string[] = [];
  for (let path = resolve(dir); ; ) {
    let isDir: boolean;
    try {
      isDir = statSync(path).isDirectory();
    } catch (error) {
      if (errorCode(error) !== 'ENOENT' && errorCode(error) !== 'ENOTDIR')
        throw new ConfigError(`${what}: cannot create the folder ${dir} (${errorCode(error)})`);
      missing.push(path);
      const parent = dirname(path);
      if (parent === path) break;
      path = parent;
      continue;
    }
    if (!isDir) throw new ConfigError(`${what}: cannot create the folder ${dir} (${path} is a file)`);
    break;
  }
  for (const path of missing.reverse()) {
    try {
      mkdirSync(path, { mode: 0o700 });
    } catch (error) {
      if (errorCode(error) === 'EEXIST' && statSync(path).isDirectory()) continue;
      throw new ConfigError(`${what}: cannot create the folder ${dir} (${errorCode(error)})`);
    }
  }
}

/** Reads a key file; any failure (missing excepted) is one ConfigError line. */
function readKeyFile(file: string, what: string): string | undefined {
  try {
    const text = readFileSync(file, 'utf8').trim();
    if (!text) throw new ConfigError(`${what}: the key file ${file} is empty`);
    return text;
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    if (errorCode(error) === 'ENOENT') return undefined;
    throw new ConfigError(`${what}: cannot read the key file ${file} (${errorCode(error)})`);
  }
}

/**
 * Creates `file` holding `content` (0600) unless it exists; returns what the
 * file holds afterwards. Written aside and linked into place, so two processes
 * starting together agree on one key and nobody reads a half-written one.
 */
function createKeyFile(file: string, content: string, what: string): { text: string; created: boolean } {
  const aside = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    writeFileSync(aside, content, { mode: 0o600, flag: 'wx' });
    try {
      linkSync(aside, file);
      return { text: content.trim(), created: true };
    } catch (error) {
      if (errorCode(error) !== 'EEXIST') throw error;
      return { text: readKeyFile(file, what) ?? '', created: false };
    }
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError(`${what}: cannot write the key file ${file} (${errorCode(error)})`);
  } finally {
    try {
      unlinkSync(aside);
    } catch {
      // Never written.
    }
  }
}

export interface KeySource {
  key: string;
  /** Where it came from: undefined when given directly. */
  file?: string;
  /** Generated by this call (its path is logged once). */
  created?: boolean;
  /** Read from `<log>.key` beside the log. */
  beside?: boolean;
}

/** The HMAC key of a log without creating anything (verify-audit), or undefined. */
export function findAuditKey(options: { key?: string; file: string; keyDir: string; names: TrailNames }) {
  if (options.key) return { key: options.key } satisfies KeySource;
  const beside = `${options.file}.key`;
  const old = existsSync(beside) ? readKeyFile(beside, options.names.file) : undefined;
  if (old) return { key: old, file: beside, beside: true } satisfies KeySource;
  const file = join(options.keyDir, HMAC_KEY_FILE);
  const key = readKeyFile(file, options.names.keyDir);
  return key ? ({ key, file } satisfies KeySource) : undefined;
}

/** The HMAC key of a log, generated into the key directory when there is none. */
export function resolveAuditKey(options: {
  key?: string;
  file?: string;
  keyDir: string;
  names: TrailNames;
}): KeySource {
  if (options.key) return { key: options.key };
  if (!options.file) return { key: randomBytes(32).toString('base64url') };
  const found = findAuditKey({ ...options, file: options.file });
  if (found) return found;
  ensureDir(options.keyDir, options.names.keyDir);
  const file = join(options.keyDir, HMAC_KEY_FILE);
  const { text, created } = createKeyFile(
    file,
    `${randomBytes(32).toString('base64url')}\n`,
    options.names.keyDir,
  );
  return { key: text, file, created };
}

export interface SigningKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** The public key as one line (base64 SPKI DER): what the server prints and the operator keeps. */
  publicText: string;
  keyId: string;
  file?: string;
  created?: boolean;
}

function asSigningKey(pem: string, what: string): Omit<SigningKey, 'file' | 'created'> {
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(pem);
  } catch {
    throw new ConfigError(`${what} is invalid: not a PKCS#8 PEM private key`);
  }
  if (privateKey.asymmetricKeyType !== 'ed25519')
    throw new ConfigError(`${what} is invalid: an Ed25519 key is needed`);
  const publicKey = createPublicKey(privateKey);
  return { privateKey, publicKey, ...describePublicKey(publicKey) };
}

function describePublicKey(publicKey: KeyObject): { publicText: string; keyId: string } {
  const der = publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
  return { publicText: der, keyId: sha256(der).slice(0, 16) };
}

/** The checkpoint signing key: given, or from (generated into) the key directory. */
export function loadSigningKey(options: { pem?: string; keyDir: string; names: TrailNames }): SigningKey {
  if (options.pem) return asSigningKey(options.pem, options.names.signingKey);
  const file = join(options.keyDir, SIGNING_KEY_FILE);
  const existing = readKeyFile(file, options.names.keyDir);
  if (existing) return { ...asSigningKey(existing, `${options.names.keyDir}: ${file}`), file };
  ensureDir(options.keyDir, options.names.keyDir);
  const pem = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const { text, created } = createKeyFile(file, pem, options.names.keyDir);
  return { ...asSigningKey(text, `${options.names.keyDir}: ${file}`), file, created };
}

/** A public key as the operator kept it: PEM, or the one-line base64 the server printed. */
export function parsePublicKey(text: string): KeyObject {
  const trimmed = text.trim();
  const key = trimmed.includes('BEGIN')
    ? createPublicKey(trimmed)
    : createPublicKey({ key: Buffer.from(trimmed, 'base64'), format: 'der', type: 'spki' });
  if (key.asymmetricKeyType !== 'ed25519') throw new Error('not an Ed25519 public key');
  return key;
}
