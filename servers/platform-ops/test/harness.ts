import { resolve } from 'node:path';
import { type ServerHarness, startServerHarness } from '@gatehouse/sandbox';

export const BIN = resolve(import.meta.dirname, '../dist/bin.js');
/** A recognisable upstream token: it must never show up anywhere a client or log reader could see it. */
export const CANARY = 'sbx_ops_CANARY_7f3a9c1e5b2d4086';
export const ALL_SCOPES = 'platform-ops:read,platform-ops:write,platform-ops:prod';

export type Harness = Omit<ServerHarness, 'env'> & {
  env(extra?: Record<string, string>): Record<string, string> & { PLATFORM_OPS_AUDIT_FILE: string };
};

export const startHarness = async (): Promise<Harness> =>
  (await startServerHarness({ domain: 'platform-ops', prefix: 'PLATFORM_OPS', token: CANARY })) as Harness;
