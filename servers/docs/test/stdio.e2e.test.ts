import { spawnRaw } from '@gatehouse/core/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { BIN, CANARY_TOKEN, fileHarness, plantLinks } from './harness.ts';

const h = fileHarness();
let root: string;
beforeAll(() => {
  root = h.handbook('hostile');
  plantLinks(root);
});

describe('stdio hygiene', () => {
  it('stdout carries JSON-RPC only, and the upstream token appears nowhere', async () => {
    const peer = spawnRaw({ bin: BIN, env: { ...h.env({ DOCS_ROOT: root }), DOCS_LOG_LEVEL: 'debug' } });
    try {
      peer.send(
        JSON.stringify({
          jsonrpc: '2.0',
          id: 1,
          method: 'initialize',
          params: {
            protocolVersion: '2025-11-25',
            capabilities: {},
            clientInfo: { name: 'raw', version: '1' },
          },
        }),
      );
      await peer.next((m) => m.id === 1);
      peer.send(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }));
      peer.send(
        JSON.stringify({
          jsonrpc: '2.0',
          id: 2,
          method: 'tools/call',
          params: { name: 'search_docs', arguments: { query: 'kafka' } },
        }),
      );
      peer.send(
        JSON.stringify({
          jsonrpc: '2.0',
          id: 3,
          method: 'tools/call',
          params: { name: 'get_document', arguments: { id: 'local:etc-link/passwd' } },
        }),
      );
      peer.send(
        JSON.stringify({
          jsonrpc: '2.0',
          id: 4,
          method: 'resources/read',
          params: { uri: 'docs://adr/0001-record-architecture-decisions.md' },
        }),
      );
      peer.send('this is not json');
      const search = await peer.next((m) => m.id === 2);
      expect(
        (search.result as { structuredContent: { results: unknown[] } }).structuredContent.results.length,
      ).toBeGreaterThan(0);
      await peer.next((m) => m.id === 3);
      await peer.next((m) => m.id === 4);
      await peer.next((m) => m.id === null && typeof m.error === 'object');
      expect(peer.lines.length).toBeGreaterThanOrEqual(5);
      for (const line of peer.lines) {
        const message = JSON.parse(line) as Record<string, unknown>;
        expect(message.jsonrpc).toBe('2.0');
      }
      expect(peer.stderr()).toContain('docs index ready');
      expect(peer.stderr()).not.toContain(CANARY_TOKEN);
      expect(peer.lines.join('\n')).not.toContain(CANARY_TOKEN);
    } finally {
      await peer.close();
    }
  });
});
