import { describe, expect, it } from 'vitest';
import { parseCatalogInfo } from './catalog-info.ts';

describe('front matter as people write it', () => {
  it('reads Backstage components and ignores other kinds', () => {
    const { entries } = parseCatalogInfo(
      'apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: svc\n  annotations:\n    github.com/project-slug: acme/svc\n    pagerduty.com/service-id: P1\nspec:\n  owner: group:default/team-a\n---\nkind: API\nmetadata:\n  name: svc-api\n',
    );
    expect(entries).toEqual([
      expect.objectContaining({
        service: 'svc',
        team: 'team-a',
        repository: 'https://github.com/acme/svc',
        onCall: { primary: null, secondary: null, rotation: 'pagerduty:P1' },
      }),
    ]);
    expect(parseCatalogInfo('kind: Component\nmetadata: [oops').entries).toEqual([]);
  });
});
