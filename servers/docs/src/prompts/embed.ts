import type { PromptMessage } from '@gatehouse/core';
import { fenceUntrusted, untrusted } from '@gatehouse/core';
import type { DocRef } from '../schemas.ts';

/** A related document as an embedded resource: fenced as third-party text, never part of the instructions. */
export function embedded(doc: { ref: DocRef; body: string }): PromptMessage {
  const header = `${doc.ref.title} [${doc.ref.source}] id=${doc.ref.id}${doc.ref.status ? ` status=${doc.ref.status}` : ''}`;
  return {
    role: 'user',
    content: {
      type: 'resource',
      resource: {
        uri: doc.ref.uri ?? doc.ref.url ?? `docs-id:${doc.ref.id}`,
        mimeType: 'text/markdown',
        text: `${header}\n${fenceUntrusted(untrusted(doc.body, doc.ref.id))}`,
      },
    },
  };
}
