/**
 * One writer per audit file. Two processes appending to one chain interleave
 * their records and break it, so the writer holds `<file>.lock`, created with
 * O_EXCL and holding its pid, host and start time. A second writer is refused
 * with one line; a lock whose process is gone (same host, pid dead or reused
 * since) is taken over. A lock from another host is never taken over: this
 * host cannot tell whether its writer lives (replicas write files of their own).
 */
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { threadId } from 'node:worker_threads';
import { ConfigError } from '../config/env.ts';
import { errorCode } from './keys.ts';

interface LockOwner {
  pid: number;
  host: string;
  started: string;
  /** The worker thread that holds it (locks held by other threads of this process are not visible here). */
  thread?: number;
  nonce?: string;
}

export interface WriterLock {
  readonly file: string;
  /** The dead writer whose lock this one replaced. */
  readonly tookOver: LockOwner | undefined;
  release(): void;
}

/** Locks held by this process, by lock path (also refuses a second writer inside one process). */
const held = new Map<string, string>();
let exitHookInstalled = false;

function readOwner(lockFile: string): { raw: string; owner: LockOwner | undefined } | undefined {
  let raw: string;
  try {
    raw = readFileSync(lockFile, 'utf8');
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const owner = JSON.parse(raw) as LockOwner;
    return { raw, owner: Number.isInteger(owner.pid) ? owner : undefined };
  } catch {
    return { raw, owner: undefined };
  }
}

/** When the process with `pid` started (Linux), in ms since the epoch; undefined elsewhere. */
function processStart(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[19]);
    const boot = Number(/^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'))?.[1]);
    // USER_HZ is 100 on every Linux that Node supports.
    return Number.isFinite(ticks) && Number.isFinite(boot) ? boot * 1000 + ticks * 10 : undefined;
  } catch {
    return undefined;
  }
}

/** Whether the lock's writer may still be running. */
function ownerAlive(owner: LockOwner, lockFile: string): boolean {
  if (owner.host !== hostname()) return true;
  if (owner.pid === process.pid) return held.has(lockFile) || (owner.thread ?? 0) !== threadId;
  try {
    process.kill(owner.pid, 0);
  } catch (error) {
    return errorCode(error) !== 'ESRCH';
  }
  // The pid lives, but a process started after the lock was taken is another one (the pid was reused).
  const started = processStart(owner.pid);
  const locked = Date.parse(owner.started);
  return started === undefined || Number.isNaN(locked) || started <= locked + 2_000;
}

function describe(owner: LockOwner | undefined): string {
  return owner ? `process ${owner.pid} on ${owner.host} since ${owner.started}` : 'a lock it cannot read';
}

/**
 * Takes the writer lock of `logFile`; throws a one-line ConfigError naming the
 * writer that holds it. `what` is the variable that named the file.
 */
export function acquireWriterLock(logFile: string, what: string): WriterLock {
  const file = `${logFile}.lock`;
  const nonce = randomBytes(8).toString('hex');
  const owner: LockOwner = {
    pid: process.pid,
    host: hostname(),
    started: new Date().toISOString(),
    thread: threadId,
    nonce,
  };
  const mine = `${JSON.stringify(owner)}\n`;
  let tookOver: LockOwner | undefined;
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o600);
      try {
        writeSync(fd, mine);
      } finally {
        closeSync(fd);
      }
      break;
    } catch (error) {
      if (errorCode(error) !== 'EEXIST' || attempt >= 3)
        throw new ConfigError(`${what}: cannot create the lock ${file} (${errorCode(error)})`);
    }
    const found = readOwner(file);
    if (!found) continue;
    if (!found.owner || ownerAlive(found.owner, file))
      throw new ConfigError(
        `${what}: ${logFile} is being written by ${describe(found.owner)} (${file}); one writer per file — give each replica its own file, e.g. {replica} in the path`,
      );
    // Dead: remove it only if it is still the same lock (another starter may have taken it over meanwhile).
    if (readOwner(file)?.raw !== found.raw) continue;
    try {
      unlinkSync(file);
    } catch {
      // Someone else removed it first; the next attempt sees who holds it now.
    }
    tookOver = found.owner;
  }
  if (readOwner(file)?.raw !== mine)
    throw new ConfigError(`${what}: ${logFile} was locked by another writer starting at the same time`);
  held.set(file, mine);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', () => {
      for (const [path, content] of held) releaseIfMine(path, content);
    });
  }
  return {
    file,
    tookOver,
    release() {
      if (held.get(file) !== mine) return;
      held.delete(file);
      releaseIfMine(file, mine);
    },
  };
}

function releaseIfMine(file: string, content: string): void {
  try {
    if (readFileSync(file, 'utf8') === content) unlinkSync(file);
  } catch {
    // Already gone.
  }
}
