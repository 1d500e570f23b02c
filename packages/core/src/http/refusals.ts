/**
 * Refusals a flood can repeat at will — before authentication, or a caller
 * over its rate — folded into records per source and interval, so the trail
 * keeps every one of them (in a `count`) without one synchronous write each.
 * The first refusal of a source (for one code) is written at once: an
 * operator sees an attack begin. Those that follow within the interval are
 * counted and written as one record when it closes, and at shutdown; a source
 * still refused then stays counted into the next interval.
 */
import type { AuditKind } from '../audit/record.ts';

export interface Refusal {
  /** Peer address (the first X-Forwarded-For hop from a trusted proxy). */
  source: string;
  principal: { id: string; kind: string };
  kind: AuditKind;
  name: string;
  errorCode: string;
  /** A bounded detail refusals of one source are told apart by (e.g. why a credential was refused). */
  detail?: string;
  /** What the first refusal of an interval carried (a sample; later ones only count). */
  args: Record<string, unknown>;
  requestId: string;
}

export interface RefusalTallyOptions {
  /** How long refusals of one source are counted into one record. */
  intervalMs?: number;
  /** Sources tracked at once; refusals from any more are counted together under source `*`. */
  maxSources?: number;
}

const REFUSAL_INTERVAL_MS = 10_000;
const MAX_SOURCES = 1_000;
const OVERFLOW = '*';

interface Window {
  first: Refusal;
  count: number;
}

export class RefusalTally {
  private readonly windows = new Map<string, Window>();
  private readonly write: (refusal: Refusal, count: number) => void;
  private readonly intervalMs: number;
  private readonly maxSources: number;
  private timer: NodeJS.Timeout | undefined;

  /** `write` hands one record to the trail (through the one builder); it must not throw. */
  constructor(write: (refusal: Refusal, count: number) => void, options: RefusalTallyOptions = {}) {
    this.write = write;
    this.intervalMs = options.intervalMs ?? REFUSAL_INTERVAL_MS;
    this.maxSources = options.maxSources ?? MAX_SOURCES;
  }

  /** Counts one refusal: written now when it opens its source's interval, folded in otherwise. */
  count(refusal: Refusal): void {
    let key = keyOf(refusal);
    let window = this.windows.get(key);
    if (!window && this.windows.size >= this.maxSources) {
      refusal = { ...refusal, source: OVERFLOW };
      key = keyOf(refusal);
      window = this.windows.get(key);
    }
    if (window) {
      // The first refusal of an interval is the one its record names.
      if (window.count === 0) window.first = refusal;
      window.count += 1;
      return;
    }
    this.timer ??= setInterval(() => this.flush(), this.intervalMs).unref();
    // The overflow bucket opens silently: a flood spread over many sources must not buy a write each.
    const silent = refusal.source === OVERFLOW;
    this.windows.set(key, { first: refusal, count: silent ? 1 : 0 });
    if (!silent) this.write(refusal, 1);
  }

  /** Writes one record per source still being refused; forgets the sources that stopped. */
  flush(): void {
    for (const [key, window] of this.windows) {
      if (window.count === 0) {
        this.windows.delete(key);
        continue;
      }
      this.write(window.first, window.count);
      window.count = 0;
    }
    if (this.windows.size === 0) this.stop();
  }

  /** At shutdown: every count written, nothing left behind. */
  close(): void {
    this.flush();
    this.windows.clear();
    this.stop();
  }

  private stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}

const keyOf = (r: Refusal) =>
  `${r.source}\n${r.principal.kind}:${r.principal.id}\n${r.name}\n${r.errorCode}\n${r.detail ?? ''}`;
