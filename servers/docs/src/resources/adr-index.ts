import { resource, SCOPES } from '../context.ts';

export const ADR_INDEX_URI = 'docs://adr-index';

const cell = (text: string | number | null) =>
  String(text ?? '—')
    .replace(/\|/g, '\\|')
    .replace(/\s+/g, ' ');

/** The decision log at a glance: one table row per ADR from both sources. */
export default resource({
  name: 'adr-index',
  uri: ADR_INDEX_URI,
  title: 'ADR index',
  description:
    'Every architecture decision record from both sources as a Markdown table: number, title, status, date, source and id.',
  mimeType: 'text/markdown',
  scope: SCOPES.read,
  read: async (ctx) => {
    const { adrs, unavailable } = await ctx.deps.library.allAdrs(undefined, ctx);
    const rows = adrs
      .slice(0, 500)
      .map(
        (a) =>
          `| ${cell(a.number)} | ${cell(a.title)} | ${cell(a.status)} | ${cell(a.date)} | ${a.source} | ${cell(a.id)} |`,
      );
    return {
      text: [
        '# ADR index',
        '',
        `${adrs.length} decision record(s)${adrs.length > 500 ? ' (first 500 shown)' : ''}.${unavailable.map((u) => ` The ${u.source} source is unavailable (${u.code}).`).join('')}`,
        '',
        '| Number | Title | Status | Date | Source | Id |',
        '| --- | --- | --- | --- | --- | --- |',
        ...rows,
        '',
      ].join('\n'),
    };
  },
});
