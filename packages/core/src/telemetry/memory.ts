export interface CompactionReport {
  /** V8 heap committed before and after, in bytes. */
  beforeBytes: number;
  afterBytes: number;
  ms: number;
}

type Collect = (options: { type: 'major'; execution: 'sync'; flavor: 'last-resort' }) => void;

/** Heap growth since the last compaction that is worth a collection to hand back. */
const WORTH_RELEASING_BYTES = 4 * 1024 * 1024;

/**
 * Gives memory back to the operating system once the server goes quiet.
 *
 * V8 grows the young generation (up to 2 × 16 MB) whenever most young objects
 * survive, which is what module loading at start-up and bursts of calls look
 * like, and it never shrinks it again unless a memory-reducing collection
 * runs. Node starts V8's own memory reducer only after old-space pressure, so
 * a server that starts, answers a burst and then waits for the next prompt —
 * the life of most MCP servers, several of them per host — keeps ~12 MB of
 * empty semi-space and freed old-space pages resident indefinitely.
 *
 * After `idleMs` with nothing arriving and no tool call running, and only if
 * the heap grew by more than a few MB since the last time, this runs one
 * memory-reducing full collection (the one V8 runs under memory pressure):
 * ~30–50 ms, at a moment nobody is waiting. Nothing runs on the busy path but
 * `touch()`, one clock read.
 */
export class IdleCompactor {
  private readonly idleMs: number;
  private readonly busy: () => boolean;
  private readonly young: YoungGenerationCap | undefined;
  private touches = 0;
  private readonly onCompact: ((report: CompactionReport) => void) | undefined;
  /** V8's collector, fetched at the first compaction (a fresh context costs start-up time); null when unavailable. */
  private collect: Collect | null | undefined;
  private lastActivity = performance.now();
  private timer: NodeJS.Timeout | undefined;
  /** Heap committed right after the last compaction (0: none yet, so the first quiet moment compacts). */
  private settledBytes = 0;

  constructor(options: {
    idleMs: number;
    busy?: () => boolean;
    onCompact?: (report: CompactionReport) => void;
    /** Young generation cap in bytes (0 or absent: V8 sizes it alone); see YoungGenerationCap. */
    youngBytes?: number;
  }) {
    this.idleMs = options.idleMs;
    this.busy = options.busy ?? (() => false);
    this.onCompact = options.onCompact;
    this.young = options.youngBytes ? new YoungGenerationCap(options.youngBytes) : undefined;
    if (this.idleMs > 0) this.arm(this.idleMs);
  }

  /** Something arrived: the quiet period starts again. */
  touch(): void {
    this.lastActivity = performance.now();
    // The young generation doubles at most once per scavenge: a look every few messages is in time.
    if (this.young && ++this.touches % YOUNG_CHECK_EVERY === 0) this.young.check();
    if (this.idleMs > 0 && this.collect !== null && !this.timer) this.arm(this.idleMs);
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(ms: number): void {
    this.timer = setTimeout(this.check, ms);
    // Never the reason the process stays alive.
    this.timer.unref();
  }

  private readonly check = (): void => {
    this.timer = undefined;
    const quietFor = performance.now() - this.lastActivity;
    if (quietFor < this.idleMs || this.busy()) {
      this.arm(Math.max(this.idleMs - quietFor, 50));
      return;
    }
    const beforeBytes = process.memoryUsage().heapTotal;
    if (beforeBytes - this.settledBytes < WORTH_RELEASING_BYTES) return;
    this.collect ??= exposeCollector() ?? null;
    if (!this.collect) return;
    const started = performance.now();
    this.collect({ type: 'major', execution: 'sync', flavor: 'last-resort' });
    this.settledBytes = process.memoryUsage().heapTotal;
    // The collection shrank the young generation: it may grow again, up to the cap.
    this.young?.check();
    this.onCompact?.({ beforeBytes, afterBytes: this.settledBytes, ms: performance.now() - started });
  };
}

/** Messages between two looks at the young generation's size. */
const YOUNG_CHECK_EVERY = 32;

/** V8's own factor (its default) and the one that stops growth. */
const GROWS = '--semi-space-growth-factor=2';
const STAYS = '--semi-space-growth-factor=1';

/** What YoungGenerationCap needs of V8 (node:v8 by default). */
export interface YoungGenerationHeap {
  /** Bytes the young generation (V8's new_space) has committed now. */
  youngBytes(): number;
  setFlags(flags: string): void;
}

/**
 * Keeps V8's young generation at or under `capBytes`.
 *
 * Under a burst of calls the young generation doubles from 1 MB up to V8's
 * limit (128 MB on a 64-bit Node 24), and that limit is fixed when the process
 * starts (`--max-semi-space-size`, which a server cannot set for itself without
 * a second process). What V8 does read while running is the growth factor, so
 * once the young generation has reached the cap its growth is switched off
 * (factor 1), and switched on again (V8's default, 2) once a memory-reducing
 * collection has shrunk it. Sizes double from a power of two, so with a
 * power-of-two cap growth stops exactly at it.
 */
export class YoungGenerationCap {
  private readonly capBytes: number;
  private heap: YoungGenerationHeap | undefined;
  private stopped = false;
  /** V8 refused the flag once: no cap from then on. */
  private refused = false;

  constructor(capBytes: number, heap?: YoungGenerationHeap) {
    this.capBytes = capBytes;
    this.heap = heap;
  }

  /** Looks at the young generation's size and lets it grow or not; never throws (a V8 that refuses: no cap). */
  check(): void {
    if (this.refused) return;
    try {
      // Loaded at the first look, not at start-up (node:v8 costs cold-start time).
      this.heap ??= v8Heap();
      const stop = this.heap.youngBytes() >= this.capBytes;
      if (stop === this.stopped) return;
      this.heap.setFlags(stop ? STAYS : GROWS);
      this.stopped = stop;
    } catch {
      this.refused = true;
    }
  }
}

function v8Heap(): YoungGenerationHeap {
  const v8 = process.getBuiltinModule('node:v8');
  return {
    youngBytes: () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0,
    setFlags: (flags) => v8.setFlagsFromString(flags),
  };
}

/**
 * V8's collector, reached without starting node with --expose-gc: the flag
 * only decides whether contexts created afterwards get `gc`, so it is on
 * for the one fresh context that hands the function out, and off again.
 */
function exposeCollector(): Collect | undefined {
  // Loaded here, not at start-up: node:v8 alone costs ~2.5 ms of every cold start.
  const { setFlagsFromString } = process.getBuiltinModule('node:v8');
  const { runInNewContext } = process.getBuiltinModule('node:vm');
  try {
    setFlagsFromString('--expose-gc');
    const collect = runInNewContext('gc') as unknown;
    setFlagsFromString('--no-expose-gc');
    return typeof collect === 'function' ? (collect as Collect) : undefined;
  } catch {
    return undefined;
  }
}
