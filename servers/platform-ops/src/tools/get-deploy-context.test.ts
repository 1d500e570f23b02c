import { expect } from 'vitest';
import { describeAllowedCall, fileHarness } from '../../test/harness.ts';

describeAllowedCall(
  fileHarness(),
  'gathers service, on-call, health and the recent deploys in one answer',
  { name: 'get_deploy_context', arguments: { service: 'checkout-api', deploys: 2 } },
  (context) => {
    expect(context.structuredContent).toMatchObject({
      service: { name: 'checkout-api', onCall: { primary: expect.any(String) } },
      environment: 'production',
      health: { status: expect.any(String) },
      unavailable: [],
    });
    expect((context.structuredContent as { recentDeploys: unknown[] }).recentDeploys).toHaveLength(2);
  },
);
