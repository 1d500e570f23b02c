/**
 * `defineServerTests(definition, options)`: one call in a server's `src/server.test.ts` gives it
 * every check all servers share, so none can skip one — the registry's house rules, the README's
 * generated tables, the committed capability surface (surface.json) and argument fuzzing. All run
 * in-process (the server over the SDK's in-memory pair, the sandbox as a loopback upstream); the
 * checks that need a real process (raw stdio bytes, HTTP) live in e2e/servers.e2e.test.ts.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ServerHarness, startServerHarness } from '@gatehouse/sandbox';
import type { Client } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AnyServerDefinition, toolsOf } from '../index.ts';
import { type Connected, connectV2, errorOf, eventually, readAudit, withClient } from './index.ts';
import { registryProblems } from './registry.ts';
import { describeResourceUris } from './resource-uris.ts';
import { readmeAgainstDefinition, surfaceAgainstSnapshot } from './surface.ts';
import { tokenBudgetProblems } from './tokens.ts';

/** What a tools/call answer looks like to the fuzzer. */
interface FuzzedResult {
  isError?: boolean;
  structuredContent?: unknown;
  content?: unknown;
  _meta?: Record<string, unknown>;
}

/**
 * The fuzzing engine: pass `fuzzTools` from '@gatehouse/bench/fuzz' (schema-derived and hostile
 * arguments with fast-check). It is given, not imported, because bench depends on core.
 */
export type FuzzEngine = (options: {
  tools: ReadonlyArray<{ name: string; inputSchema: unknown }>;
  call(name: string, args: Record<string, unknown>): Promise<FuzzedResult>;
  runsPerTool: number;
  budgetMs: number;
  seed?: number;
  inspect?(tool: string, args: Record<string, unknown>, result: FuzzedResult): void;
}) => Promise<{ calls: number; codes: Map<string, number>; perTool: Map<string, number> }>;

/** What the `after` hook of the fuzz check sees once every generated call has been answered. */
interface FuzzRun {
  harness: ServerHarness;
  calls: number;
  codes: Map<string, number>;
  /** Every approval message the (declining) human was shown. */
  shown: string[];
}

export interface ServerTestOptions {
  /** The server's folder (README.md, surface.json, src/tools/): `new URL('..', import.meta.url)`. */
  root: string | URL;
  /** Variables a working server needs besides its upstream (docs: DOCS_ROOT), made in the suite's scratch folder. */
  env?: (scratch: string) => Record<string, string>;
  /** Other values of the server's own variables whose tools must follow the house rules too. */
  registryVariants?: ReadonlyArray<Record<string, string>>;
  fuzz: {
    engine: FuzzEngine;
    /** Upper bound per tool (default 100); the time budget usually ends a tool's run first. */
    runsPerTool?: number;
    /** Wall-clock budget for all tools together (default 12 s). */
    budgetMs?: number;
    seed?: number;
    /** Checks each answer (throw to fail), e.g. "nothing from outside DOCS_ROOT". */
    inspect?: (tool: string, args: Record<string, unknown>, result: FuzzedResult) => void;
    /** Assertions after the run, e.g. "nothing was paid upstream". */
    after?: (run: FuzzRun) => void | Promise<void>;
  };
}

/** The suite's sandbox and environment, for a server's own checks after the call. */
export interface ServerTests {
  /** The sandbox harness (started before the first test of the file). */
  readonly harness: ServerHarness;
  /** A working server's environment (upstream, own audit file, `options.env`) plus `extra`. */
  env(extra?: Record<string, string>): Record<string, string>;
  /** `<PREFIX>_SCOPES` with every scope the server defines. */
  readonly allScopes: Record<string, string>;
}

/** An argument just over the 5,000-element input cap core configures. */
const ELEMENT_CAP_PROBE = { service: Array.from({ length: 6_000 }, (_, i) => i) };

export function defineServerTests(definition: AnyServerDefinition, options: ServerTestOptions): ServerTests {
  const root = typeof options.root === 'string' ? options.root : fileURLToPath(options.root);
  const prefix = definition.envPrefix;
  /** A recognisable upstream token: it must never show up anywhere a client or log reader could see it. */
  const canary = `sbx_${definition.name.replace(/\W/g, '_')}_CANARY_${randomBytes(8).toString('hex')}`;
  const allScopes = { [`${prefix}_SCOPES`]: Object.keys(definition.scopes).join(',') };
  let h: ServerHarness | undefined;
  let own: Record<string, string> = {};

  beforeAll(async () => {
    h = await startServerHarness({ domain: definition.name, prefix, token: canary });
    own = options.env?.(h.dir) ?? {};
  });
  afterAll(() => h?.close());

  const suite: ServerTests = {
    get harness() {
      if (!h) throw new Error('defineServerTests: the harness starts in beforeAll; use it inside tests');
      return h;
    },
    env: (extra = {}) => suite.harness.env({ ...own, ...extra }),
    allScopes,
  };

  describe(`${definition.name}: shared server checks`, () => {
    it('follows the house rules for tool definitions (one file per tool, budgets, safety metadata, scopes, toolsets)', async () => {
      const tools = join(root, 'src', 'tools');
      expect(registryProblems(definition, tools)).toEqual([]);
      expect(await tokenBudgetProblems(definition)).toEqual([]);
      for (const variant of options.registryVariants ?? []) {
        const configured = { ...definition, tools: toolsOf(definition, definition.env.parse(variant)) };
        expect(registryProblems(configured, tools), JSON.stringify(variant)).toEqual([]);
        expect(await tokenBudgetProblems(configured), JSON.stringify(variant)).toEqual([]);
      }
    });

    it('keeps the README tables in step with the definitions (pnpm generate)', async () => {
      const { generated, committed } = await readmeAgainstDefinition(definition, join(root, 'README.md'));
      expect(committed).toBe(generated);
    });

    it('matches the committed capability surface (UPDATE_SURFACE=1 pnpm test:fast to accept a change)', async () => {
      const c = await connectV2({ server: definition, env: suite.env(allScopes) });
      try {
        const { actual, committed } = await surfaceAgainstSnapshot(c.client, join(root, 'surface.json'));
        expect(committed, 'surface.json is missing: run UPDATE_SURFACE=1 pnpm test:fast').toBeDefined();
        expect(actual).toEqual(committed);
      } finally {
        await c.close();
      }
    });

    it('narrows tools/list to each toolset alone (<PREFIX>_TOOLSETS), every tool in exactly one', async () => {
      const tools = toolsOf(definition);
      const toolsets = Object.keys(definition.toolsets);
      for (const toolset of toolsets) {
        const env = suite.env({ ...allScopes, [`${prefix}_TOOLSETS`]: toolset });
        const listed = await withClient(connectV2({ server: definition, env }), async ({ client }) =>
          (await client.listTools()).tools.map((t) => t.name).sort(),
        );
        expect(listed, toolset).toEqual(
          tools
            .filter((t) => t.toolset === toolset)
            .map((t) => t.name)
            .sort(),
        );
      }
      const counted = tools.filter((t) => toolsets.includes(t.toolset));
      expect(counted.map((t) => t.name)).toEqual(tools.map((t) => t.name));
    });

    describeFuzz(definition, options.fuzz, suite, canary);
    describeResourceUris(definition.name, async () => {
      const env = suite.env({ ...allScopes, [`${prefix}_LOG_LEVEL`]: 'warn' });
      return { c: await connectV2({ server: definition, env }), auditFile: env[`${prefix}_AUDIT_FILE`]! };
    });
  });

  return suite;
}

/**
 * Argument fuzzing through ONE long-lived client whose human declines every approval, so side
 * effects are fuzzed up to the approval gate and never act. The server never crashes or hangs,
 * every call ends in a result or a typed tool error, every request leaves exactly one audit event,
 * and the upstream token never shows.
 */
function describeFuzz(
  definition: AnyServerDefinition,
  fuzz: ServerTestOptions['fuzz'],
  suite: ServerTests,
  canary: string,
) {
  let c: Connected<Client>;
  let env: Record<string, string>;
  let auditFile: string;
  const shown: string[] = [];
  beforeAll(async () => {
    env = suite.env({ ...suite.allScopes, [`${definition.envPrefix}_LOG_LEVEL`]: 'warn' });
    auditFile = env[`${definition.envPrefix}_AUDIT_FILE`]!;
    c = await connectV2({ server: definition, env, approval: 'decline', shown });
    await suite.harness.control.clearRequests();
  });
  afterAll(() => c?.close());

  describe('argument fuzzing (fast-check, schema-derived + hostile)', () => {
    it('answers every generated call with a result or a typed error, one audit event each, and stays up', {
      timeout: 60_000,
    }, async () => {
      const { tools } = await c.client.listTools();
      const defined = toolsOf(definition, definition.env.parse(env)).map((t) => t.name);
      expect(tools.map((t) => t.name).sort()).toEqual([...defined].sort());
      let replay: { name: string; arguments: Record<string, unknown> } | undefined;
      const summary = await fuzz.engine({
        tools,
        runsPerTool: fuzz.runsPerTool ?? 100,
        budgetMs: fuzz.budgetMs ?? 12_000,
        ...(fuzz.seed === undefined ? {} : { seed: fuzz.seed }),
        call: (name, args) =>
          c.client.callTool({ name, arguments: args }, { timeout: 15_000 }).catch((error: Error) => {
            // A dead or hung server: say what it last logged.
            throw new Error(`${name}: ${error.message}; server log: ${c.stderr().slice(-3_000)}`);
          }),
        inspect: (tool, args, result) => {
          if (JSON.stringify(result).includes(canary)) throw new Error(`${tool} returned the upstream token`);
          if (!result.isError) replay ??= { name: tool, arguments: args };
          fuzz.inspect?.(tool, args, result);
        },
      });
      // Every tool got a fair share, and both paths were exercised: real answers and refusals.
      for (const tool of tools)
        expect(summary.perTool.get(tool.name) ?? 0, tool.name).toBeGreaterThanOrEqual(10);
      expect(summary.codes.get('ok') ?? 0).toBeGreaterThan(0);
      expect(summary.codes.get('INVALID_ARGUMENT') ?? 0).toBeGreaterThan(0);
      // Alive and serving after everything: the list, and a call that answered before answers again.
      expect((await c.client.listTools()).tools).toHaveLength(tools.length);
      const again = await c.client.callTool(replay!);
      expect(again.isError, JSON.stringify(again.content).slice(0, 300)).toBeFalsy();
      const calls = summary.calls + 1;

      // One call event per request: one per tools/call, plus the approval round of each side
      // effect the human was asked about (2026 input-required: a second request, same call id).
      await eventually(() => readAudit(auditFile, 'call').length >= calls || undefined, 10_000);
      const events = readAudit(auditFile, 'call');
      const asked = events.filter((e) => e.decision === 'approval_requested');
      const declined = events.filter((e) => e.decision === 'declined');
      expect(declined).toHaveLength(asked.length);
      expect(shown).toHaveLength(asked.length);
      const kinds = events.reduce<Record<string, number>>((acc, e) => {
        const key = `${e.name}:${e.decision}`;
        acc[key] = (acc[key] ?? 0) + 1;
        return acc;
      }, {});
      expect(events, JSON.stringify(kinds)).toHaveLength(calls + asked.length);
      expect(events.every((e) => e.kind === 'tool')).toBe(true);
      // The audit tells the same story as the answers.
      const refused = events.filter((e) => e.errorCode === 'INVALID_ARGUMENT');
      expect(refused).toHaveLength(summary.codes.get('INVALID_ARGUMENT') ?? 0);
      expect(summary.codes.get('APPROVAL_DECLINED') ?? 0).toBe(declined.length);
      if (asked.length === 0)
        expect(events.filter((e) => e.outcome === 'ok')).toHaveLength((summary.codes.get('ok') ?? 0) + 1);
      expect(c.stderr()).not.toContain('unhandled rejection');
      expect(c.stderr()).not.toContain(canary);
      await fuzz.after?.({ harness: suite.harness, calls, codes: summary.codes, shown });
    });

    // More values than the seam accepts: a typed, audited error, not the SDK's plain-text refusal.
    it('answers arguments over the 5,000-element cap with a typed error and an audit event', async () => {
      const { tools } = await c.client.listTools();
      const read = tools.find((t) => t.annotations?.readOnlyHint) ?? tools[0]!;
      const before = readAudit(auditFile, 'call').length;
      const result = await c.client.callTool({ name: read.name, arguments: ELEMENT_CAP_PROBE });
      expect(result.isError).toBe(true);
      expect(errorOf(result)?.code).toBe('INVALID_ARGUMENT');
      await eventually(() => readAudit(auditFile, 'call').length === before + 1 || undefined, 2_000);
    });
  });
}
