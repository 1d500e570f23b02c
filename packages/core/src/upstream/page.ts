import { z } from 'zod';

/**
 * The shape of one page of an upstream list: its items, the cursor of the next
 * page (null on the last) and the total when the upstream knows it. Build it
 * once per item schema, at module scope: zod compiles a parser for every schema
 * object, so a page schema built per request costs CPU and memory on each call.
 */
export const upstreamPage = <T extends z.ZodType>(item: T) =>
  z.object({ items: z.array(item), nextCursor: z.string().nullable(), total: z.number().int().optional() });
