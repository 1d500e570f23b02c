/**
 * The soak's upstream faults: the server's tight timings, the rule sets the
 * sandbox applies, and the phases that cycle through them while the calls run.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { FaultRule, SandboxControl } from '@gatehouse/sandbox';

/**
 * Tight upstream timings so the soak moves: 200 ms per attempt, 1 s per call
 * (retries and back-off included), two retries, and a breaker that opens after
 * five failed calls and tries again after one second.
 */
export const SOAK_ENV = {
  PLATFORM_OPS_TIMEOUT_MS: '200',
  PLATFORM_OPS_DEADLINE_MS: '1000',
  PLATFORM_OPS_RETRIES: '2',
  PLATFORM_OPS_BREAKER_FAILURES: '5',
  PLATFORM_OPS_BREAKER_COOLDOWN_MS: '1000',
  PLATFORM_OPS_LOG_LEVEL: 'warn',
};

const UPSTREAM = '/platform/v1/';

/**
 * The background mix. The sandbox applies the first rule whose `rate` draw
 * hits, so each share is of what the rules above it left over.
 */
export const MIXED: FaultRule[] = [
  { path: UPSTREAM, latencyMs: 600, rate: 0.06 }, // beyond the per-attempt timeout
  { path: UPSTREAM, latencyMs: 60, rate: 0.1 }, // slow but within it
  { path: UPSTREAM, status: 503, rate: 0.06 },
  { path: UPSTREAM, status: 500, rate: 0.03 },
  { path: UPSTREAM, reset: true, rate: 0.04 },
  { path: UPSTREAM, body: 'malformed', rate: 0.03 },
  { path: UPSTREAM, body: 'html', rate: 0.02 },
  { path: UPSTREAM, body: 'schema', rate: 0.02 },
];

/** Put in front of the mix for a burst: about 85% of attempts answer 5xx. */
export const BURST: FaultRule[] = [
  { path: UPSTREAM, status: 503, rate: 0.7 },
  { path: UPSTREAM, status: 502, rate: 0.5 },
];

/** The phases cycle while the calls run: a 5xx burst may open the breaker, a healthy spell lets it close. */
export const PHASES: Array<{ name: string; rules: FaultRule[] }> = [
  { name: 'mixed', rules: MIXED },
  { name: '5xx burst', rules: [...BURST, ...MIXED] },
  { name: 'mixed', rules: MIXED },
  { name: 'healthy', rules: [] },
];

/** The phase the soak is in (calls count their outcome under it), and the cycle that switches it. */
export class FaultPhases {
  name = 'warm-up';
  // Bumped at each switch: a call in flight across one is counted apart, since it may have met either rule set.
  gen = 0;
  stopped = false;
  readonly log: Array<{ name: string; atMs: number }> = [];
  private readonly control: Pick<SandboxControl, 'setFaults'>;
  private readonly maxMs: number;
  private readonly phaseMs: number;
  private soakStart = Number.NaN;
  private cycle: Promise<void> | undefined;

  constructor(control: Pick<SandboxControl, 'setFaults'>, maxMs: number, phaseMs: number) {
    this.control = control;
    this.maxMs = maxMs;
    this.phaseMs = phaseMs;
  }

  set(name: string): void {
    this.name = name;
    this.gen += 1;
  }

  /** Not stopped, and within the soak's own cap (plus a phase). */
  get running(): boolean {
    return !this.stopped && performance.now() - this.soakStart < this.maxMs + this.phaseMs;
  }

  /**
   * The fault phases, switched through the control API while the calls run (bounded by the soak's own cap).
   * The first is in place before the first call.
   */
  async start(): Promise<void> {
    await this.control.setFaults(PHASES[0]!.rules);
    this.set(PHASES[0]!.name);
    this.soakStart = performance.now();
    this.log.push({ name: this.name, atMs: 0 });
    this.cycle = (async () => {
      for (let n = 1; this.running; n++) {
        const until = performance.now() + this.phaseMs;
        while (!this.stopped && performance.now() < until) await sleep(Math.min(100, this.phaseMs));
        if (this.stopped) break;
        const next = PHASES[n % PHASES.length]!;
        // Faults are switched on after the label changes and off before it does, so no call counted
        // under 'healthy' can have met a fault.
        if (next.rules.length > 0) this.set(next.name);
        await this.control.setFaults(next.rules);
        if (next.rules.length === 0) this.set(next.name);
        this.log.push({ name: next.name, atMs: Math.round(performance.now() - this.soakStart) });
      }
    })();
  }

  /** Stops the cycle and waits for it to end (a failed switch included). */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.cycle?.catch(() => undefined);
  }
}
