import { z } from 'zod';
import { invalidArgument } from './errors.ts';
import { byteLength } from './text.ts';

/**
 * Opaque cursors: base64url JSON, so clients cannot rely on their shape and a
 * server can change what it keeps inside without breaking anyone.
 */
export function encodeCursor(state: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify(state)).toString('base64url');
}

export function decodeCursor<S extends z.ZodType>(cursor: string, schema: S): z.infer<S> {
  try {
    return schema.parse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
  } catch {
    throw invalidArgument(
      'The cursor is not valid. Pass back the exact nextCursor from a previous result, or omit it to start over.',
    );
  }
}

/** Input fields every paginated tool shares. */
export const pageInput = {
  limit: z.number().int().min(1).max(50).default(20).describe('Items per page (1-50).'),
  cursor: z.string().max(512).optional().describe('nextCursor from a previous page.'),
};

export const TruncatedText = z.object({
  text: z.string(),
  truncated: z.boolean(),
  nextCursor: z.string().nullable().describe('Pass back as cursor to read the next part.'),
  totalBytes: z.number().int(),
});
export type TruncatedText = z.infer<typeof TruncatedText>;

const TextCursor = z.object({ o: z.number().int().min(0) });
export const TRUNCATION_MARKER = '\n[... truncated: call again with nextCursor to continue ...]';

/**
 * Returns at most `budgetBytes` of `text` starting at the cursor's offset,
 * cut on a character boundary (and on a line break when one is close), with an
 * explicit marker and a cursor for the rest.
 */
export function sliceText(text: string, budgetBytes: number, cursor?: string): TruncatedText {
  const offset = cursor === undefined ? 0 : decodeCursor(cursor, TextCursor).o;
  if (offset > text.length) throw invalidArgument('The cursor points past the end of the text.');
  const rest = text.slice(offset);
  const totalBytes = byteLength(text);
  if (byteLength(rest) <= budgetBytes) return { text: rest, truncated: false, nextCursor: null, totalBytes };
  // Binary search the longest prefix within budget (UTF-8 aware).
  let lo = 0;
  let hi = rest.length;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (byteLength(rest.slice(0, mid)) <= budgetBytes) lo = mid;
    else hi = mid - 1;
  }
  let end = lo;
  const lineBreak = rest.lastIndexOf('\n', end - 1);
  if (lineBreak > end * 0.8) end = lineBreak + 1;
  // Never split a surrogate pair.
  const code = rest.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end -= 1;
  return {
    text: rest.slice(0, end) + TRUNCATION_MARKER,
    truncated: true,
    nextCursor: encodeCursor({ o: offset + end }),
    totalBytes,
  };
}
