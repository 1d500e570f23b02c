import { type Heading, headingsOf, sectionOf, simplifyHeading } from '../markdown.ts';
import type { AdrStatus, DocKind } from '../schemas.ts';
import { stringList, yaml } from './yaml.ts';

/**
 * Parsing of the Markdown teams actually keep in git, with optional YAML front
 * matter: ADRs in the Nygard/MADR/adr-tools styles, standards, guides (the
 * Backstage catalog files are read in catalog-info.ts). Everything here is
 * pure: text in, plain data out, never an exception for a malformed file.
 */

export interface ParsedDocument {
  kind: DocKind;
  title: string;
  /** Lower-cased; one of the AdrStatus values for well-formed ADRs, another word otherwise, null when absent. */
  status: string | null;
  /** ADR number (from the file name, front matter or title). */
  number: number | null;
  /** ISO date (YYYY-MM-DD) or timestamp, whatever form the author used. */
  date: string | null;
  owner: string | null;
  tags: string[];
  /** Services the document is about (front matter `services`/`service`). */
  services: string[];
  supersededBy: number | null;
  /** Markdown without the front matter. */
  body: string;
  headings: Heading[];
  /** Problems found while parsing (reported in logs, never fatal). */
  warnings: string[];
}

const FRONT_MATTER = /^\uFEFF?---[ \t]*\r?\n([\s\S]*?)\r?\n(?:---|\.\.\.)[ \t]*(?:\r?\n|$)/;

/** Splits YAML front matter from the Markdown body; bad YAML is reported and ignored. */
export function splitFrontMatter(text: string): {
  data: Record<string, unknown>;
  body: string;
  warning?: string;
} {
  const normalised = text.replace(/^\uFEFF/, '');
  const match = FRONT_MATTER.exec(normalised);
  if (!match) return { data: {}, body: normalised };
  const body = normalised.slice(match[0].length);
  try {
    // `timestamp` makes unquoted dates (date: 2021-03-04) come back as Date objects, as most
    // front-matter tools do; normaliseDate turns either form into an ISO string.
    const data = yaml().parse(match[1] ?? '', {
      customTags: ['timestamp'],
      uniqueKeys: false,
      maxAliasCount: 50,
    });
    if (data === null || data === undefined) return { data: {}, body };
    if (typeof data !== 'object' || Array.isArray(data))
      return { data: {}, body, warning: 'front matter is not a mapping' };
    return { data: data as Record<string, unknown>, body };
  } catch (error) {
    return {
      data: {},
      body,
      warning: `front matter is not valid YAML: ${(error as Error).message.split('\n')[0]}`,
    };
  }
}

const pad = (n: number) => String(n).padStart(2, '0');

/**
 * Dates as authors write them: YAML timestamps (Date objects), `2021-03-04`,
 * `2021-3-4`, `2021/03/04`, `2021-03-04 10:30`, ISO timestamps. Date-only
 * values stay date-only (no time zone shift); anything else is null.
 */
export function normaliseDate(value: unknown): string | null {
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) return null;
    const midnight =
      value.getUTCHours() === 0 &&
      value.getUTCMinutes() === 0 &&
      value.getUTCSeconds() === 0 &&
      value.getUTCMilliseconds() === 0;
    return midnight
      ? `${value.getUTCFullYear()}-${pad(value.getUTCMonth() + 1)}-${pad(value.getUTCDate())}`
      : value.toISOString();
  }
  if (typeof value !== 'string') return null;
  const text = value.trim();
  const dateOnly = /^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$/.exec(text);
  if (dateOnly) {
    const [y, m, d] = [Number(dateOnly[1]), Number(dateOnly[2]), Number(dateOnly[3])];
    const probe = new Date(Date.UTC(y, m - 1, d));
    if (probe.getUTCFullYear() !== y || probe.getUTCMonth() !== m - 1 || probe.getUTCDate() !== d)
      return null;
    return `${y}-${pad(m)}-${pad(d)}`;
  }
  if (/^\d{4}-\d{2}-\d{2}[T ]\d{1,2}:\d{2}/.test(text)) {
    const ms = Date.parse(text.replace(' ', 'T'));
    return Number.isNaN(ms) ? null : new Date(ms).toISOString();
  }
  return null;
}

/** `Accepted`, `**SUPERSEDED** by ADR-0007`, `status:: proposed` → `accepted`, `superseded`, `proposed`. */
export function normaliseStatus(value: unknown): string | null {
  if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') return null;
  const word = /[\p{L}][\p{L}-]*/u.exec(String(value).replace(/[*_`[\]]/g, ' '));
  if (!word) return null;
  const lower = word[0].toLowerCase();
  const aliases: Record<string, AdrStatus> = {
    approved: 'accepted',
    adopted: 'accepted',
    draft: 'proposed',
    superceded: 'superseded',
    declined: 'rejected',
    deprecated: 'deprecated',
  };
  return aliases[lower] ?? lower.slice(0, 40);
}

const KIND_ALIASES: Record<string, DocKind> = {
  adr: 'adr',
  adrs: 'adr',
  decision: 'adr',
  decisions: 'adr',
  'decision-record': 'adr',
  'decision-records': 'adr',
  'architecture-decisions': 'adr',
  standard: 'standard',
  standards: 'standard',
  policy: 'standard',
  policies: 'standard',
  guide: 'guide',
  guides: 'guide',
  'how-to': 'guide',
  howto: 'guide',
  tutorial: 'guide',
  tutorials: 'guide',
};

const firstString = (data: Record<string, unknown>, keys: string[]): string | null => {
  for (const key of keys) {
    const value = data[key];
    if (typeof value === 'string' && value.trim()) return value.trim();
    if (typeof value === 'number') return String(value);
  }
  return null;
};

/** First non-empty line of a section's content (for `## Status` / `## Date`). */
function sectionFirstLine(body: string, headings: Heading[], name: string): string | null {
  const section = sectionOf(body, headings, name);
  if (section === undefined) return null;
  const line = section
    .split('\n')
    .slice(1)
    .map((l) => l.trim())
    .find((l) => l.length > 0 && !l.startsWith('#'));
  return line ?? null;
}

/** `Status: accepted`, `* Status: accepted`, `- **Status**: Accepted` lines near the top (MADR and friends). */
function inlineField(body: string, name: string): string | null {
  const re = new RegExp(`^\\s{0,3}(?:[-*]\\s+)?\\**${name}\\**\\s*:{1,2}\\**\\s*(.+)$`, 'im');
  const head = body.slice(0, 3000);
  const match = re.exec(head);
  return match ? match[1]!.trim() : null;
}

const numberFrom = (text: string | null | undefined): number | null => {
  if (!text) return null;
  const match = /^(\d{1,5})(?:[-_ .]|$)/.exec(text);
  return match ? Number(match[1]) : null;
};

/**
 * Parses one Markdown file. `path` is relative to the docs root (POSIX
 * separators); folder names decide the kind when the front matter does not.
 */
export function parseMarkdown(path: string, text: string): ParsedDocument {
  const warnings: string[] = [];
  const { data, body, warning } = splitFrontMatter(text.replace(/\r\n/g, '\n'));
  if (warning) warnings.push(warning);
  const headings = headingsOf(body);
  const segments = path.split('/');
  const file = segments.at(-1) ?? path;
  const folders = segments.slice(0, -1).map((s) => s.toLowerCase());

  const declaredKind = firstString(data, ['kind', 'type', 'category']);
  let kind: DocKind | undefined = declaredKind ? KIND_ALIASES[declaredKind.toLowerCase()] : undefined;
  kind ??= folders.map((f) => KIND_ALIASES[f]).find((k) => k !== undefined);
  const hasAdrHeadings = ['status', 'context', 'decision'].every((name) =>
    headings.some((h) => simplifyHeading(h.text) === name || simplifyHeading(h.text).startsWith(`${name} `)),
  );
  if (!kind && numberFrom(file) !== null && (hasAdrHeadings || inlineField(body, 'status'))) kind = 'adr';
  kind ??= 'guide';

  // adr-tools writes "# 7. Use Postgres": the number is kept separately.
  const h1 = headings.find((h) => h.level === 1)?.text.replace(/^\d{1,5}\.\s+/, '');
  const title = (
    firstString(data, ['title', 'name']) ??
    h1 ??
    file.replace(/\.(md|markdown)$/i, '').replace(/[-_]+/g, ' ')
  ).slice(0, 200);

  let number = numberFrom(file);
  if (number === null) {
    const declared = data.number ?? data.adr ?? data.id;
    if (typeof declared === 'number' && Number.isInteger(declared)) number = declared;
    else if (typeof declared === 'string') number = numberFrom(declared.replace(/^adr-?/i, ''));
  }
  if (number === null) {
    const fromTitle = /\bADR[-\s]?(\d{1,5})\b/i.exec(title);
    if (fromTitle) number = Number(fromTitle[1]);
  }
  if (kind !== 'adr' && numberFrom(file) === null) number = null;

  const rawStatus =
    data.status ??
    (kind === 'adr' ? (sectionFirstLine(body, headings, 'status') ?? inlineField(body, 'status')) : null);
  const status = normaliseStatus(rawStatus);
  const supersededText =
    firstString(data, ['superseded_by', 'superseded-by', 'supersededBy', 'superseded']) ??
    (typeof rawStatus === 'string' && /supersede?d\s+by/i.test(rawStatus) ? rawStatus : null);
  const superseded = supersededText ? /(\d{1,5})/.exec(supersededText) : null;

  const rawDate =
    data.date ??
    data.created ??
    data.updated ??
    data.last_updated ??
    (kind === 'adr' ? (inlineField(body, 'date') ?? sectionFirstLine(body, headings, 'date')) : null);
  const date = normaliseDate(rawDate);
  if (rawDate !== null && rawDate !== undefined && date === null)
    warnings.push(`unrecognised date ${JSON.stringify(String(rawDate)).slice(0, 60)}`);

  return {
    kind,
    title,
    status,
    number,
    date,
    owner:
      firstString(data, ['owner', 'team', 'owners', 'author'])?.slice(0, 120) ??
      (Array.isArray(data.owners) ? (stringList(data.owners)[0] ?? null) : null),
    tags: stringList(data.tags ?? data.keywords),
    services: stringList(data.services ?? data.service ?? data.components),
    supersededBy: superseded ? Number(superseded[1]) : null,
    body,
    headings,
    warnings,
  };
}
