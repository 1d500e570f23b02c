/** Reference baseline: the v1 `@modelcontextprotocol/sdk` over stdio with the same echo tool. */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { z } from 'zod';

const mcp = new McpServer({ name: 'bare-v1', version: '1.0.0' });
mcp.registerTool(
  'echo',
  {
    title: 'Echo',
    description: 'Returns the text it was given and its length.',
    inputSchema: { text: z.string().max(200) },
    outputSchema: { text: z.string(), length: z.number().int() },
  },
  async ({ text }) => {
    const out = { text, length: text.length };
    return { content: [{ type: 'text', text: JSON.stringify(out) }], structuredContent: out };
  },
);
await mcp.connect(new StdioServerTransport());
