/**
 * The soak's load: calls to three read tools, a fixed number in flight, each
 * counted by outcome under the fault phase it met.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { StdioPeer } from '../peer.ts';
import type { FaultPhases } from './soak-faults.ts';

export const CONCURRENCY = 16;
/** No tools/call may go unanswered longer than this; the deadline (SOAK_ENV) is 1 s. */
const CALL_TIMEOUT_MS = 10_000;
/**
 * A worker told CIRCUIT_OPEN waits this long before its next call, as a client
 * honouring the hint would (if sooner): without it the instant refusals of an
 * open circuit make up most of the calls and end the soak early.
 */
export const CIRCUIT_PAUSE_MS = 100;

const SERVICES = ['checkout-api', 'payments-gateway', 'search-indexer'];
const QUERIES = ['latency', 'database lag', 'errors'];

/** Three read tools in turn, over a few services and queries. */
function callFor(i: number): { tool: string; args: Record<string, unknown> } {
  const service = SERVICES[Math.floor(i / 3) % SERVICES.length]!;
  switch (i % 3) {
    case 0:
      return {
        tool: 'get_service_health',
        args: { service, environment: i % 2 ? 'staging' : 'production' },
      };
    case 1:
      return { tool: 'list_recent_deploys', args: { service, limit: 5 } };
    default:
      return {
        tool: 'search_runbooks',
        args: { query: QUERIES[Math.floor(i / 3) % QUERIES.length]!, limit: 5 },
      };
  }
}

const tally = (map: Record<string, number>, key: string) => {
  map[key] = (map[key] ?? 0) + 1;
};

/** Counts `code` under `group` in a two-level tally. */
export const tallyIn = (map: Record<string, Record<string, number>>, group: string, code: string) => {
  map[group] ??= {};
  tally(map[group], code);
};

/** The calls' outcomes: `sent` and `transport` count the warm-up's calls too, the others leave them out. */
export interface LoadTallies {
  sent: number;
  outcomes: Record<string, number>;
  byTool: Record<string, Record<string, number>>;
  byPhase: Record<string, Record<string, number>>;
  transport: Record<string, number>;
  latencyByCode: Record<string, number[]>;
  messages: Record<string, string>;
}

/** One bounded run of calls. */
export interface LoadRun {
  done: number;
  ms: number;
  perSecond: number;
  latencies: number[];
  paused: number;
}

/** The soak's calls against `peer`, each counted under the phase of `phases` it began in. */
export function soakLoad(peer: StdioPeer, phases: FaultPhases) {
  const tallies: LoadTallies = {
    sent: 0,
    outcomes: {},
    byTool: {},
    byPhase: {},
    transport: {},
    latencyByCode: {},
    messages: {},
  };
  const { outcomes, byTool, byPhase, transport, latencyByCode, messages } = tallies;
  const call = async (i: number) => {
    const { tool, args } = callFor(i);
    const began = phases.name;
    const gen = phases.gen;
    tallies.sent += 1;
    const t0 = performance.now();
    let code: string;
    let message: string | undefined;
    try {
      const response = await peer.request('tools/call', { name: tool, arguments: args }, CALL_TIMEOUT_MS);
      const result = response.result as
        | { isError?: boolean; _meta?: Record<string, { code?: string; message?: string } | undefined> }
        | undefined;
      if (response.error) {
        const error = response.error as { code?: number };
        code = `JSON-RPC ${error.code ?? '?'}`;
        tally(transport, code);
      } else if (!result) {
        code = 'NO RESULT';
        tally(transport, code);
      } else if (result.isError) {
        const error = result._meta?.['dev.gatehouse/error'];
        code = error?.code ?? 'UNTYPED';
        message = error?.message;
      } else code = 'ok';
    } catch {
      code = `NO ANSWER (${CALL_TIMEOUT_MS / 1000} s)`;
      tally(transport, code);
    }
    const at = gen === phases.gen ? began : 'across a phase switch';
    if (began !== 'warm-up') {
      tally(outcomes, code);
      tallyIn(byTool, tool, code);
      tallyIn(byPhase, at, code);
      const latencies = latencyByCode[code] ?? [];
      latencies.push(performance.now() - t0);
      latencyByCode[code] = latencies;
      // The first message of each code in each phase, to tell one cause from another.
      if (message && messages[`${at}: ${code}`] === undefined)
        messages[`${at}: ${code}`] = message.slice(0, 300);
    }
    return code;
  };

  /** Calls `call` from `first` on, `CONCURRENCY` at a time, until `count` are done or `capMs` has passed. */
  const run = async (first: number, count: number, capMs: number): Promise<LoadRun> => {
    const latencies: number[] = [];
    let issued = 0;
    let paused = 0;
    const t0 = performance.now();
    const worker = async () => {
      while (issued < count && performance.now() - t0 < capMs) {
        const i = first + issued++;
        const t = performance.now();
        const code = await call(i);
        latencies.push(performance.now() - t);
        if (code === 'CIRCUIT_OPEN') {
          paused += 1;
          await sleep(CIRCUIT_PAUSE_MS);
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    const ms = performance.now() - t0;
    return { done: latencies.length, ms, perSecond: (latencies.length / ms) * 1000, latencies, paused };
  };

  return { tallies, run };
}
