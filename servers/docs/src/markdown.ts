/**
 * Markdown as the server reads any document body, local or from the wiki:
 * its headings (outside fenced code) and the text of one section.
 */

export interface Heading {
  level: number;
  text: string;
  /** Character offset of the heading line in `body`. */
  start: number;
}

/** Headings outside fenced code blocks. */
export function headingsOf(body: string): Heading[] {
  const headings: Heading[] = [];
  let fence: string | null = null;
  let offset = 0;
  for (const line of body.split('\n')) {
    const fenceMatch = /^\s{0,3}(`{3,}|~{3,})/.exec(line);
    if (fenceMatch) {
      const marker = fenceMatch[1]!;
      if (fence === null) fence = marker[0]!;
      else if (marker[0] === fence) fence = null;
    } else if (fence === null) {
      const h = /^\s{0,3}(#{1,6})\s+(.+?)\s*#*\s*$/.exec(line);
      if (h) headings.push({ level: h[1]!.length, text: h[2]!.trim(), start: offset });
    }
    offset += line.length + 1;
  }
  return headings;
}

/** The text of one section: its heading line up to the next heading of the same or a higher level. */
export function sectionOf(body: string, headings: Heading[], wanted: string): string | undefined {
  const key = simplifyHeading(wanted);
  const index = headings.findIndex((h) => simplifyHeading(h.text) === key);
  const found = index >= 0 ? index : headings.findIndex((h) => simplifyHeading(h.text).startsWith(key));
  if (found < 0) return undefined;
  const heading = headings[found]!;
  const next = headings.slice(found + 1).find((h) => h.level <= heading.level);
  return body.slice(heading.start, next ? next.start : body.length).trimEnd();
}

/** A heading as compared: lower case, without emphasis marks, single spaces. */
export const simplifyHeading = (text: string): string =>
  text
    .toLowerCase()
    .replace(/[*_`#]/g, '')
    .replace(/\s+/g, ' ')
    .trim();
