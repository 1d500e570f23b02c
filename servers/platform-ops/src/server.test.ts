/**
 * The checks every server shares (registry, README, surface snapshot, fuzzing: see
 * defineServerTests), then platform-ops' own surface and policy cases, all in-process.
 */
import { resolve } from 'node:path';
import { fuzzTools } from '@gatehouse/bench/fuzz';
import { connectV1, connectV2, defineServerTests, errorOf, withClient } from '@gatehouse/core/testing';
import { describe, expect, it } from 'vitest';
import type { AnyClient } from '../test/harness.ts';
import platformOps from './index.ts';

const suite = defineServerTests(platformOps, {
  root: resolve(import.meta.dirname, '..'),
  fuzz: { engine: fuzzTools, runsPerTool: 150, budgetMs: 12_000, seed: 424_242 },
});

const READ_TOOLS = ['get_deploy_context', 'get_service_health', 'list_recent_deploys', 'search_runbooks'];

describe.each([
  ['v2 client, 2026-07-28', connectV2],
  ['v1 client, 2025-11-25', connectV1],
] as const)('capability surface (%s)', (_label, connect) => {
  it('lists every tool with schemas and annotations derived from its effect', async () => {
    await withClient<AnyClient, void>(
      connect({ server: platformOps, env: suite.env(suite.allScopes) }),
      async ({ client }) => {
        const { tools } = await client.listTools();
        expect(tools.map((t) => t.name).sort()).toEqual([...READ_TOOLS, 'rollback_deploy'].sort());
        for (const tool of tools) {
          expect(tool.inputSchema.type).toBe('object');
          expect(tool.outputSchema?.type).toBe('object');
          expect(JSON.stringify(tool.inputSchema)).not.toContain('$schema');
          expect(tool.description!.length).toBeGreaterThan(40);
          const readOnly = READ_TOOLS.includes(tool.name);
          expect(tool.annotations).toMatchObject({
            readOnlyHint: readOnly,
            destructiveHint: !readOnly,
            idempotentHint: readOnly,
            openWorldHint: true,
          });
        }
        const health = tools.find((t) => t.name === 'get_service_health')!;
        expect(health.inputSchema.required).toEqual(['service']);
        expect(
          (health.inputSchema.properties as Record<string, { maxLength?: number }>).service?.maxLength,
        ).toBe(64);
      },
    );
  });

  it('hides side-effecting tools from a read-only principal and answers them like unknown tools', async () => {
    await withClient<AnyClient, void>(
      connect({ server: platformOps, env: suite.env() }),
      async ({ client }) => {
        const { tools } = await client.listTools();
        expect(tools.map((t) => t.name).sort()).toEqual(READ_TOOLS);
        const hidden = await client
          .callTool({
            name: 'rollback_deploy',
            arguments: { service: 'checkout-api', environment: 'staging', reason: 'testing hidden tools' },
          })
          .then(
            (r) => ({ kind: 'result' as const, r }),
            (e: Error) => ({ kind: 'error' as const, e }),
          );
        const unknown = await client.callTool({ name: 'no_such_tool', arguments: {} }).then(
          (r) => ({ kind: 'result' as const, r }),
          (e: Error) => ({ kind: 'error' as const, e }),
        );
        // Same answer shape for a hidden tool and a tool that does not exist.
        expect(hidden.kind).toBe(unknown.kind);
        const text = (x: typeof hidden) =>
          (x.kind === 'error' ? x.e.message : JSON.stringify(x.r.content))
            .replaceAll('rollback_deploy', 'X')
            .replaceAll('no_such_tool', 'X');
        expect(text(hidden)).toBe(text(unknown));
      },
    );
  });
});

describe('policy switches', () => {
  it('--read-only hides side effects whatever the scopes', async () => {
    await withClient(
      connectV2({
        server: platformOps,
        env: suite.env(suite.allScopes),
        args: ['--read-only'],
      }),
      async ({ client }) => {
        const { tools } = await client.listTools();
        expect(tools.map((t) => t.name)).not.toContain('rollback_deploy');
      },
    );
  });

  it('allow and deny lists act on listing and calling alike', async () => {
    await withClient(
      connectV2({
        server: platformOps,
        env: suite.env({
          PLATFORM_OPS_ALLOW_TOOLS: 'get_service_health,search_runbooks',
          PLATFORM_OPS_DENY_TOOLS: 'search_runbooks',
        }),
      }),
      async ({ client }) => {
        const { tools } = await client.listTools();
        expect(tools.map((t) => t.name)).toEqual(['get_service_health']);
        await expect(
          client.callTool({ name: 'search_runbooks', arguments: { query: 'latency' } }),
        ).rejects.toThrow(/search_runbooks/);
      },
    );
  });

  it('production needs its own scope even when the tool is visible', async () => {
    const { control } = suite.harness;
    const before = (await control.requests()).filter((r) => r.method === 'POST').length;
    await withClient(
      connectV2({
        server: platformOps,
        env: suite.env({ PLATFORM_OPS_SCOPES: 'platform-ops:read,platform-ops:write' }),
      }),
      async ({ client }) => {
        const result = await client.callTool({
          name: 'rollback_deploy',
          arguments: {
            service: 'checkout-api',
            environment: 'production',
            reason: 'latency regression after deploy',
          },
        });
        expect(errorOf(result)?.code).toBe('DENIED');
        expect(JSON.stringify(result.content)).toContain('platform-ops:prod');
        expect((await control.requests()).filter((r) => r.method === 'POST').length).toBe(before);
      },
    );
  });
});

describe('resources, prompts and completion', () => {
  it('reads the service catalog and runbooks, completes service names', async () => {
    await withClient(connectV2({ server: platformOps, env: suite.env() }), async ({ client }) => {
      const templates = await client.listResourceTemplates();
      expect(templates.resourceTemplates.map((t) => t.uriTemplate).sort()).toEqual([
        'runbook://{id}',
        'service://catalog/{service}',
      ]);
      const entry = await client.readResource({ uri: 'service://catalog/checkout-api' });
      const record = JSON.parse((entry.contents[0] as { text: string }).text);
      expect(record).toMatchObject({ name: 'checkout-api', owner: { team: expect.any(String) } });

      const all = await client.complete({
        ref: { type: 'ref/resource', uri: 'service://catalog/{service}' },
        argument: { name: 'service', value: '' },
      });
      expect(all.completion.values.length).toBeGreaterThanOrEqual(20);
      const some = await client.complete({
        ref: { type: 'ref/resource', uri: 'service://catalog/{service}' },
        argument: { name: 'service', value: 'pay' },
      });
      expect(some.completion.values.length).toBeGreaterThan(0);
      for (const name of some.completion.values) expect(name.startsWith('pay')).toBe(true);

      const hits = await client.callTool({ name: 'search_runbooks', arguments: { query: 'latency' } });
      const first = (hits.structuredContent as { results: Array<{ uri: string }> }).results[0]!;
      const runbook = await client.readResource({ uri: first.uri });
      const text = (runbook.contents[0] as { text: string }).text;
      expect(text).toContain('<untrusted-content source="runbook:');
      expect(text).toContain('</untrusted-content>');

      await expect(client.readResource({ uri: 'service://catalog/no-such-service' })).rejects.toThrow(
        /NOT_FOUND/,
      );
      await expect(client.readResource({ uri: `service://catalog/${'a'.repeat(5000)}` })).rejects.toThrow();
    });
  });

  it('renders both prompts with the catalog or deploys embedded', async () => {
    await withClient(connectV1({ server: platformOps, env: suite.env() }), async ({ client }) => {
      const { prompts } = await client.listPrompts();
      expect(prompts.map((p) => p.name).sort()).toEqual(['deploy_review', 'incident_triage']);
      const triage = await client.getPrompt({
        name: 'incident_triage',
        arguments: { service: 'checkout-api', environment: 'staging', symptom: 'errors spiking' },
      });
      expect(JSON.stringify(triage.messages[0])).toContain('checkout-api in staging');
      expect(triage.messages[1]?.content).toMatchObject({
        type: 'resource',
        resource: { uri: 'service://catalog/checkout-api' },
      });
      const review = await client.getPrompt({
        name: 'deploy_review',
        arguments: { service: 'checkout-api' },
      });
      const deploys = JSON.parse(
        (review.messages[1]!.content as { resource: { text: string } }).resource.text,
      );
      expect(deploys.length).toBeGreaterThan(0);
      const completion = await client.complete({
        ref: { type: 'ref/prompt', name: 'incident_triage' },
        argument: { name: 'environment', value: 'st' },
      });
      expect(completion.completion.values).toEqual(['staging']);
    });
  });
});
