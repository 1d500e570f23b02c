/**
 * The support API's own per-user rule: an agent sees only the customers of their region. Each
 * customer's region follows from its id; an agent's regions are their `region:<name>` groups. The
 * service token (no user) sees every region, as before.
 */
import { createHash } from 'node:crypto';
import { forbidden, type RouteContext, type Row, type Store } from '@gatehouse/sandbox/kit';

const REGIONS = ['eu', 'us'] as const;

export const regionOf = (customerId: string): string =>
  REGIONS[createHash('sha256').update(customerId).digest()[0]! % REGIONS.length]!;

/** The regions `caller` may see; undefined means all (the service identity). */
function regionsOf(caller: RouteContext['caller']): string[] | undefined {
  if (!caller) return undefined;
  return caller.groups.filter((g) => g.startsWith('region:')).map((g) => g.slice('region:'.length));
}

/** Refuses a customer outside the caller's regions. */
export function assertRegion(caller: RouteContext['caller'], customerId: string): void {
  const regions = regionsOf(caller);
  if (regions && !regions.includes(regionOf(customerId)))
    throw forbidden(`customer '${customerId}' is outside the regions of ${caller!.sub}`);
}

/** A WHERE clause keeping tickets of the caller's customers (none when the caller sees every region). */
export function regionClause(
  store: Store,
  caller: RouteContext['caller'],
): { where: string; args: string[] } | undefined {
  const regions = regionsOf(caller);
  if (!regions) return undefined;
  const ids = store
    .all('SELECT id FROM customers')
    .map((r: Row) => String(r.id))
    .filter((id) => regions.includes(regionOf(id)));
  if (ids.length === 0) return { where: '0', args: [] };
  return { where: `t.customer_id IN (${ids.map(() => '?').join(', ')})`, args: ids };
}
