import type { Ownership } from '../schemas.ts';
import { stringList, type Yaml, yaml } from './yaml.ts';

/**
 * Backstage catalog-info.yaml files as teams keep them next to their docs.
 * Pure: text in, plain data out, never an exception for a malformed file.
 */

/** A Backstage Component from catalog-info.yaml, reduced to what ownership questions need. */
export type CatalogEntry = Pick<
  Ownership,
  'service' | 'description' | 'team' | 'lifecycle' | 'onCall' | 'repository' | 'slack' | 'links'
> & {
  /** Document paths or ids named in annotations (gatehouse.dev/docs). */
  docs: string[];
};

const str = (value: unknown): string | null =>
  typeof value === 'string' && value.trim() ? value.trim().slice(0, 300) : null;

/** `group:default/team-payments` → `team-payments`. */
const entityName = (ref: string | null): string | null =>
  ref ? (ref.split(':').at(-1)?.split('/').at(-1) ?? ref) : null;

function repositoryFrom(annotations: Record<string, unknown>): string | null {
  const slug = str(annotations['github.com/project-slug']);
  if (slug) return `https://github.com/${slug}`;
  const gitlab = str(annotations['gitlab.com/project-slug']);
  if (gitlab) return `https://gitlab.com/${gitlab}`;
  const location =
    str(annotations['backstage.io/source-location']) ?? str(annotations['backstage.io/managed-by-location']);
  if (location) return location.replace(/^url:/, '').replace(/\/tree\/[^/]+\/?$/, '');
  return str(annotations['gatehouse.dev/repository']);
}

/**
 * Every `kind: Component` entity in a catalog-info.yaml (several documents per
 * file are allowed). Recognised annotations: github.com/project-slug,
 * gitlab.com/project-slug, backstage.io/source-location (repository);
 * pagerduty.com/service-id, opsgenie.com/team, gatehouse.dev/on-call-rotation,
 * gatehouse.dev/on-call-primary, gatehouse.dev/on-call-secondary (on-call);
 * slack.com/channel, gatehouse.dev/slack (chat); gatehouse.dev/docs (related
 * documents, comma-separated paths).
 */
export function parseCatalogInfo(text: string): { entries: CatalogEntry[]; warnings: string[] } {
  const entries: CatalogEntry[] = [];
  const warnings: string[] = [];
  let documents: ReturnType<Yaml['parseAllDocuments']>;
  try {
    documents = yaml().parseAllDocuments(text);
  } catch (error) {
    return { entries, warnings: [`not valid YAML: ${(error as Error).message.split('\n')[0]}`] };
  }
  const list = Array.isArray(documents) ? documents : [documents];
  for (const doc of list.slice(0, 50)) {
    if (doc.errors.length > 0) {
      warnings.push(`not valid YAML: ${doc.errors[0]!.message.split('\n')[0]}`);
      continue;
    }
    const entity = doc.toJS({ maxAliasCount: 50 }) as Record<string, unknown> | null;
    if (!entity || typeof entity !== 'object' || String(entity.kind).toLowerCase() !== 'component') continue;
    const metadata = (entity.metadata ?? {}) as Record<string, unknown>;
    const spec = (entity.spec ?? {}) as Record<string, unknown>;
    const annotations = (metadata.annotations ?? {}) as Record<string, unknown>;
    const name = str(metadata.name);
    if (!name || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/.test(name)) {
      warnings.push(`component without a valid metadata.name`);
      continue;
    }
    const links = Array.isArray(metadata.links)
      ? (metadata.links as Array<Record<string, unknown>>)
          .map((l) => ({ title: str(l?.title) ?? str(l?.url) ?? '', url: str(l?.url) ?? '' }))
          .filter((l) => /^https?:\/\//.test(l.url))
          .slice(0, 10)
      : [];
    const pagerduty = str(annotations['pagerduty.com/service-id']);
    const opsgenie = str(annotations['opsgenie.com/team']);
    entries.push({
      service: name,
      description: str(metadata.description),
      team: entityName(str(spec.owner)),
      lifecycle: str(spec.lifecycle),
      onCall: {
        primary: str(annotations['gatehouse.dev/on-call-primary']),
        secondary: str(annotations['gatehouse.dev/on-call-secondary']),
        rotation:
          str(annotations['gatehouse.dev/on-call-rotation']) ??
          (pagerduty ? `pagerduty:${pagerduty}` : opsgenie ? `opsgenie:${opsgenie}` : null),
      },
      repository: repositoryFrom(annotations),
      slack: str(annotations['slack.com/channel']) ?? str(annotations['gatehouse.dev/slack']),
      links,
      docs: stringList(annotations['gatehouse.dev/docs'], 20),
    });
  }
  return { entries, warnings };
}
