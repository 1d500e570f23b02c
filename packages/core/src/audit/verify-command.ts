/**
 * `<bin> verify-audit [options] <file> [<file>…]`: each log's chain and its
 * signed checkpoints, one report per file (replicas write files of their own,
 * checked together). Exit 0 when every file holds, 1 when any is broken, 2 for
 * a usage problem (no key, no public key, an unreadable argument).
 */
import type { KeyObject } from 'node:crypto';
import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, resolveFileVariables } from '../config/env.ts';
import { anchorFileFor, publicKeyFileFor } from './anchor.ts';
import {
  defaultAnchorDir,
  defaultKeyDir,
  errorCode,
  findAuditKey,
  parsePublicKey,
  trailNames,
} from './keys.ts';
import { verifyTrail } from './verify.ts';

export const VERIFY_USAGE =
  'verify-audit [--public-key FILE|BASE64]… [--anchor-dir DIR | --anchors FILE] [--key-dir DIR] [--chain-only] <file>…';

export type VerifyOutcome = { code: 0 | 1; stdout: string } | { code: 2; error: string };

const OPTIONS = {
  'public-key': { type: 'string', multiple: true },
  'anchor-dir': { type: 'string' },
  anchors: { type: 'string' },
  'key-dir': { type: 'string' },
  'chain-only': { type: 'boolean', default: false },
} as const;

function located(file: string): string {
  const path = resolve(file);
  try {
    return join(realpathSync(dirname(path)), basename(path));
  } catch {
    return path;
  }
}

function publicKeysFrom(values: string[], source: string): KeyObject[] {
  return values.map((value) => {
    const text = existsSync(value) ? readFileSync(value, 'utf8') : value;
    try {
      return parsePublicKey(text);
    } catch {
      throw new ConfigError(
        `${source}: not an Ed25519 public key (PEM, or the base64 line the server printed)`,
      );
    }
  });
}

/** Runs the command; never exits the process (the runner prints and exits). */
export function verifyAuditCommand(
  target: { prefix: string; server: string },
  args: string[],
  env: NodeJS.ProcessEnv,
): VerifyOutcome {
  const p = target.prefix;
  const names = trailNames(p);
  try {
    let parsed: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>;
    try {
      parsed = parseArgs({ args, options: OPTIONS, allowPositionals: true, strict: true });
    } catch (error) {
      throw new ConfigError(`verify-audit: ${(error as Error).message}`);
    }
    const { values, positionals: files } = parsed;
    if (files.length === 0) throw new ConfigError(`verify-audit needs the audit file path: ${VERIFY_USAGE}`);
    if (values.anchors && files.length > 1)
      throw new ConfigError(
        'verify-audit: --anchors names the anchor file of one log; give one file with it',
      );
    const vars = resolveFileVariables(env, [
      names.key,
      names.keyDir,
      names.anchorDir,
      `${p}_AUDIT_PUBLIC_KEY`,
    ]);
    const keyDir = values['key-dir'] ?? vars[names.keyDir] ?? defaultKeyDir(target.server, env);
    const anchorDir = values['anchor-dir'] ?? vars[names.anchorDir] ?? defaultAnchorDir(target.server, env);
    const given = values['public-key'] ?? [];
    const pinnedKeys = given.length
      ? publicKeysFrom(given, '--public-key')
      : vars[`${p}_AUDIT_PUBLIC_KEY`]
        ? publicKeysFrom([vars[`${p}_AUDIT_PUBLIC_KEY`]!], `${p}_AUDIT_PUBLIC_KEY`)
        : undefined;
    const out: string[] = [];
    let broken = false;
    for (const name of files) {
      const file = located(name);
      let exists = false;
      try {
        if (statSync(file).isDirectory())
          throw new ConfigError(`verify-audit: ${name} is a folder, not an audit file`);
        exists = true;
      } catch (error) {
        if (error instanceof ConfigError) throw error;
      }
      const key = findAuditKey({ key: vars[names.key], file, keyDir, names });
      if (!key)
        throw new ConfigError(
          `verify-audit: no audit key for ${name}: set ${names.key}, or point ${names.keyDir} (or --key-dir) at the key folder (looked in ${keyDir})`,
        );
      const anchorFile = values.anchors ?? anchorFileFor(anchorDir, file);
      const chainOnly = values['chain-only'];
      if (!exists && (chainOnly || !existsSync(anchorFile)))
        throw new ConfigError(`verify-audit: cannot read ${name} (ENOENT)`);
      let lines: string[];
      if (!chainOnly && !existsSync(anchorFile))
        lines = [
          `broken: no checkpoints for this log (${anchorFile} is missing): the chain alone cannot show its end was cut; give --anchors FILE for a moved log, or --chain-only`,
        ];
      else {
        const defaultPub = publicKeyFileFor(dirname(anchorFile), target.server);
        if (!chainOnly && !pinnedKeys && !existsSync(defaultPub))
          throw new ConfigError(`verify-audit: no public key (${defaultPub} is missing): give --public-key`);
        const report = verifyTrail({
          file,
          exists,
          key: key.key,
          anchorFile,
          anchorLines: chainOnly ? undefined : readFileSync(anchorFile, 'utf8').split('\n').filter(Boolean),
          publicKeys: chainOnly ? [] : (pinnedKeys ?? publicKeysFrom([defaultPub], defaultPub)),
          publicKeySource: pinnedKeys ? 'the key you gave' : defaultPub,
          pinned: pinnedKeys !== undefined,
        });
        lines = report.lines;
      }
      if (lines[0]!.startsWith('broken')) broken = true;
      out.push(...(files.length > 1 ? [`${name}: ${lines[0]}`, ...lines.slice(1)] : lines));
    }
    return { code: broken ? 1 : 0, stdout: `${out.join('\n')}\n` };
  } catch (error) {
    if (error instanceof ConfigError) return { code: 2, error: error.message };
    return { code: 2, error: `verify-audit: ${errorCode(error)}` };
  }
}
