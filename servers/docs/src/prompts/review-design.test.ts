import { connectV1, withClient } from '@gatehouse/core/testing';
import { describe, expect, it } from 'vitest';
import { fileHarness } from '../../test/harness.ts';
import docs from '../index.ts';

const h = fileHarness();

describe('prompts', () => {
  it('review_design embeds the relevant standards', async () => {
    await withClient(connectV1({ server: docs, env: h.env() }), async ({ client }) => {
      const result = await client.getPrompt({
        name: 'review_design',
        arguments: {
          design:
            'A new refunds API: POST /v1/refunds without idempotency keys, secrets in the repository env file, logs with full card numbers.',
        },
      });
      const [first, ...rest] = result.messages;
      expect((first!.content as { text: string }).text).toContain('<design>');
      expect(rest.length).toBeGreaterThanOrEqual(2);
      const embedded = rest.map((m) => (m.content as { resource: { uri: string; text: string } }).resource);
      expect(embedded.every((r) => r.text.includes('<untrusted-content'))).toBe(true);
      const all = embedded.map((r) => r.uri).join(' ');
      expect(all).toMatch(
        /standards\/(api-design|secrets-management|logging-and-observability)\.md|wiki\.example\.internal\/standards\//,
      );
      expect(embedded.every((r) => /Standard/.test(r.text))).toBe(true);
    });
  });
});
