import { realpath } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { GatehouseError, invalidArgument } from '@gatehouse/core';

/** File types the server treats as documents (Markdown) or ownership records (catalog-info YAML). */
export const MARKDOWN_EXTENSIONS = ['.md', '.markdown'] as const;
export const READABLE_EXTENSIONS = [...MARKDOWN_EXTENSIONS, '.yaml', '.yml'] as const;

const MAX_PATH_LENGTH = 512;
// biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point.
const CONTROL = /[\u0000-\u001F\u007F]/;
const ENCODED = /%[0-9A-Fa-f]{2}/;

const rejectPath = (reason: string, details: Record<string, unknown> = {}) =>
  invalidArgument(
    `The path is not allowed: ${reason}. Use a path relative to the docs folder, e.g. "adr/0007-use-postgres.md".`,
    {
      reason,
      ...details,
    },
  );

/**
 * Turns a path supplied by a client (tool argument, resource URI variable)
 * into a clean relative POSIX path inside the docs folder, or refuses it.
 * Percent-encoding is decoded once first, so `%2e%2e%2f` is judged as `../`;
 * anything still encoded after that (double encoding) is refused too.
 */
export function cleanClientPath(raw: string): string {
  if (raw.length === 0) throw rejectPath('it is empty');
  if (raw.length > MAX_PATH_LENGTH) throw rejectPath(`it is longer than ${MAX_PATH_LENGTH} characters`);
  if (raw.includes('\0')) throw rejectPath('it contains a NUL byte');
  let path: string;
  try {
    path = decodeURIComponent(raw);
  } catch {
    throw rejectPath('it has malformed percent-encoding');
  }
  if (ENCODED.test(path)) throw rejectPath('it is percent-encoded more than once');
  if (path.includes('\0')) throw rejectPath('it contains a NUL byte');
  if (CONTROL.test(path)) throw rejectPath('it contains control characters');
  if (path.includes('\\')) throw rejectPath('it contains a backslash');
  if (path.startsWith('/') || path.startsWith('~') || /^[A-Za-z]:/.test(path) || isAbsolute(path))
    throw rejectPath('it is absolute');
  const segments = path.split('/');
  for (const segment of segments) {
    if (segment === '..') throw rejectPath('it climbs out of the docs folder with ".."');
    if (segment === '.' || segment === '') throw rejectPath('it has empty or "." segments');
    if (segment.startsWith('.')) throw rejectPath('hidden files and folders are not documents');
  }
  return segments.join('/');
}

/** Whether `child` (absolute) is `root` itself or lies below it. */
export function isInside(root: string, child: string): boolean {
  const rel = relative(root, child);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

/**
 * Resolves a cleaned relative path against the docs root and follows
 * symlinks: the real location must still be inside the real root. Returns
 * the real absolute path, or throws NOT_FOUND / DENIED.
 */
export async function resolveInside(realRoot: string, relativePath: string): Promise<string> {
  const joined = resolve(realRoot, ...relativePath.split('/'));
  if (!isInside(realRoot, joined)) throw rejectPath('it resolves outside the docs folder');
  const escaped = () =>
    new GatehouseError(
      'DENIED',
      `${JSON.stringify(relativePath)} goes through a link that points outside the docs folder; it is never read.`,
      {
        details: { path: relativePath, reason: 'symlink-escape' },
      },
    );
  let real: string;
  try {
    real = await realpath(joined);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // A missing file behind a link that leaves the root is still an escape, not a miss.
    let ancestor = dirname(joined);
    while (isInside(realRoot, ancestor) && ancestor !== realRoot) {
      const realAncestor = await realpath(ancestor).catch(() => undefined);
      if (realAncestor !== undefined) {
        if (!isInside(realRoot, realAncestor)) throw escaped();
        break;
      }
      ancestor = dirname(ancestor);
    }
    throw new GatehouseError(
      'NOT_FOUND',
      `No document at ${JSON.stringify(relativePath)} in the docs folder${code === 'ENOENT' || code === 'ENOTDIR' ? '' : ` (${code ?? 'error'})`}.`,
      {
        details: { path: relativePath },
      },
    );
  }
  if (!isInside(realRoot, real)) throw escaped();
  return real;
}

export const hasExtension = (path: string, extensions: readonly string[]): boolean => {
  const lower = path.toLowerCase();
  return extensions.some((ext) => lower.endsWith(ext));
};

/** `adr/0007-use-postgres.md` → `adr/0007-use-postgres` (the stable id part). */
export const stripMarkdownExtension = (path: string): string => path.replace(/\.(md|markdown)$/i, '');
