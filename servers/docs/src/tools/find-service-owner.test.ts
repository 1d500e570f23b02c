import { errorOf, withClient } from '@gatehouse/core/testing';
import { describe, expect, it } from 'vitest';
import { type AnyClient, CLIENTS, callOk, fileHarness } from '../../test/harness.ts';
import docs from '../index.ts';

const h = fileHarness();

describe.each(CLIENTS)('tools (%s)', (_label, connect) => {
  it('find_service_owner answers from the local catalog first and from the wiki second', async () => {
    await withClient<AnyClient, void>(connect({ server: docs, env: h.env() }), async ({ client }) => {
      const local = await callOk(client, 'find_service_owner', { service: 'docs-portal' });
      expect(local).toMatchObject({
        service: 'docs-portal',
        source: 'local',
        team: 'platform',
        onCall: { primary: 'Ana Costa', secondary: 'Jakub Nowak', rotation: 'opsgenie:platform-sre' },
        repository: 'https://git.example.internal/platform/docs-portal',
        slack: '#platform-help',
        catalogFile: 'docs://services/docs-portal/catalog-info.yaml',
        filledFromWiki: [],
      });

      const both = await callOk(client, 'find_service_owner', { service: 'checkout-api' });
      expect(both).toMatchObject({
        source: 'local',
        team: 'checkout',
        repository: 'https://github.com/acme/checkout-api',
        slack: '#team-checkout',
      });
      expect(both.onCall.rotation).toBe('checkout-primary');
      // The catalog names no people on call: the wiki fills them, and says so.
      expect(both.onCall.primary).toEqual(expect.any(String));
      expect(both.filledFromWiki).toEqual(['onCall.primary', 'onCall.secondary']);
      const related = both.relatedDocs.map((d: { id: string }) => d.id);
      expect(related).toEqual(
        expect.arrayContaining([
          'local:adr/0002-adopt-kafka-for-domain-events',
          'local:standards/api-design',
          'local:adr/0007-use-postgres',
        ]),
      );

      const wiki = await callOk(client, 'find_service_owner', { service: 'payments-gateway' });
      expect(wiki).toMatchObject({
        service: 'payments-gateway',
        source: 'wiki',
        team: 'payments',
        catalogFile: null,
      });
      expect(wiki.onCall).toMatchObject({
        primary: expect.any(String),
        secondary: expect.any(String),
        rotation: 'payments-oncall',
      });
      expect(
        wiki.relatedDocs.some(
          (d: { id: string; source: string }) => d.id.startsWith('wiki:') && d.source === 'wiki',
        ),
      ).toBe(true);

      const none = await client.callTool({
        name: 'find_service_owner',
        arguments: { service: 'no-such-service' },
      });
      expect(errorOf(none)?.code).toBe('NOT_FOUND');
      expect(JSON.stringify(none.content)).toContain('docs-portal');
    });
  });
});
