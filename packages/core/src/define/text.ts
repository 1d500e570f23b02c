/**
 * Characters that hide or reorder text: zero-width joiners and spaces, bidi
 * embeddings/overrides/isolates, the BOM, soft hyphen, tag characters. A model
 * reads them; a human reviewing the same text does not see them.
 */
const HIDDEN_CHARACTERS =
  /[\u00AD\u180E\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF]|[\u{E0000}-\u{E007F}]/gu;
/** C0/C1 controls except tab, newline and carriage return. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
const CONTROL_CHARACTERS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/g;

export function stripHidden(text: string): string {
  return text.replace(HIDDEN_CHARACTERS, '').replace(CONTROL_CHARACTERS, '');
}

export function hasControlCharacters(text: string): boolean {
  CONTROL_CHARACTERS.lastIndex = 0;
  return CONTROL_CHARACTERS.test(text.replace(/[\u0080-\u009F]/g, ''));
}

export function containsHidden(text: string): boolean {
  HIDDEN_CHARACTERS.lastIndex = 0;
  CONTROL_CHARACTERS.lastIndex = 0;
  return HIDDEN_CHARACTERS.test(text) || CONTROL_CHARACTERS.test(text);
}

/** UTF-8 length without allocating a buffer for short strings' sake. */
export const byteLength = (text: string): number => Buffer.byteLength(text, 'utf8');
