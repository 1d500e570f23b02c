import { connectV2, withClient } from '@gatehouse/core/testing';
import { describe, expect, it } from 'vitest';
import { fileHarness } from '../../test/harness.ts';
import docs from '../index.ts';

const h = fileHarness();

describe('prompts', () => {
  it('draft_adr embeds the house format and the most related ADRs as resources', async () => {
    await withClient(connectV2({ server: docs, env: h.env() }), async ({ client }) => {
      const { prompts } = await client.listPrompts();
      expect(prompts.map((p) => p.name).sort()).toEqual(['draft_adr', 'review_design']);
      const draft = prompts.find((p) => p.name === 'draft_adr')!;
      expect(draft.arguments?.map((a) => [a.name, a.required])).toEqual([
        ['title', true],
        ['context', true],
        ['drivers', false],
      ]);
      const result = await client.getPrompt({
        name: 'draft_adr',
        arguments: {
          title: 'Move order storage to a PostgreSQL cluster',
          context: 'The order database on MySQL cannot keep up; we want PostgreSQL for orders.',
          drivers: 'cost, operability',
        },
      });
      const [first, ...rest] = result.messages;
      const instructions = (first!.content as { text: string }).text;
      expect(instructions).toContain('Draft ADR-0009');
      expect(instructions).toContain('## Consequences');
      expect(instructions).toContain('"cost", "operability"');
      expect(rest.length).toBeGreaterThanOrEqual(2);
      expect(rest.length).toBeLessThanOrEqual(3);
      for (const message of rest) {
        expect(message.content.type).toBe('resource');
        const resource = (message.content as { resource: { uri: string; text: string } }).resource;
        expect(resource.text).toContain('<untrusted-content source=');
      }
      const uris = rest.map((m) => (m.content as { resource: { uri: string } }).resource.uri);
      expect(
        uris.some(
          (u) =>
            u === 'docs://adr/0007-use-postgres.md' || u === 'docs://adr/0003-use-mysql-for-order-storage.md',
        ),
      ).toBe(true);
      // Documents stay data: their text is never part of the instructions.
      expect(instructions).not.toContain('untrusted-content');
    });
  });
});
