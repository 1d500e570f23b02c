import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sandboxContract } from './contract.ts';
import type { Store } from './db.ts';
import { discoverDomains } from './discover.ts';
import { FAULT_BODIES } from './faults.ts';
import { startSandbox } from './index.ts';
import { call, type Loose } from './test-utils.ts';
import type { Sandbox } from './types.ts';

type Schema = Record<string, Loose>;
/** The merged contract: tooling/sandbox/openapi.yaml plus every servers/<name>/sandbox/openapi.yaml. */
const spec = (await sandboxContract()) as Schema;
const domains = await discoverDomains();

/** A small JSON Schema checker covering the keywords openapi.yaml uses; returns error paths. */
function validate(value: unknown, schema: Schema, path = '$'): string[] {
  if (schema.$ref) {
    const name = String(schema.$ref).replace('#/components/schemas/', '');
    return validate(value, spec.components.schemas[name], path);
  }
  const errors: string[] = [];
  if (schema.oneOf) {
    const passing = (schema.oneOf as Schema[]).filter((s) => validate(value, s, path).length === 0).length;
    if (passing !== 1) errors.push(`${path}: matches ${passing} oneOf branches`);
    return errors;
  }
  if ('const' in schema && value !== schema.const)
    errors.push(`${path}: expected const ${JSON.stringify(schema.const)}`);
  if (schema.enum && !(schema.enum as unknown[]).includes(value))
    errors.push(`${path}: ${JSON.stringify(value)} not in enum`);
  if (schema.type) {
    const types: string[] = Array.isArray(schema.type) ? schema.type : [schema.type];
    const actual =
      value === null
        ? 'null'
        : Array.isArray(value)
          ? 'array'
          : Number.isInteger(value)
            ? 'integer'
            : typeof value;
    const ok = types.some((t) => t === actual || (t === 'number' && actual === 'integer'));
    if (!ok) return [`${path}: expected ${types.join('|')}, got ${actual}`];
  }
  if (typeof value === 'string' && schema.pattern && !new RegExp(schema.pattern).test(value))
    errors.push(`${path}: does not match ${schema.pattern}`);
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < schema.minimum) errors.push(`${path}: below minimum`);
    if (schema.maximum !== undefined && value > schema.maximum) errors.push(`${path}: above maximum`);
  }
  if (Array.isArray(value)) {
    if (schema.maxItems !== undefined && value.length > schema.maxItems)
      errors.push(`${path}: too many items`);
    if (schema.items) {
      for (const [i, item] of value.entries()) errors.push(...validate(item, schema.items, `${path}[${i}]`));
    }
  } else if (value !== null && typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    for (const key of (schema.required as string[] | undefined) ?? [])
      if (!(key in obj)) errors.push(`${path}: missing ${key}`);
    for (const [key, v] of Object.entries(obj)) {
      const prop = schema.properties?.[key];
      if (prop) errors.push(...validate(v, prop, `${path}.${key}`));
      else if (schema.additionalProperties === false) errors.push(`${path}: unexpected property ${key}`);
      else if (typeof schema.additionalProperties === 'object')
        errors.push(...validate(v, schema.additionalProperties, `${path}.${key}`));
    }
  }
  return errors;
}

function responseSchema(path: string, method: string, status: number): Schema {
  const op = spec.paths[path]?.[method.toLowerCase()];
  if (!op) throw new Error(`${method} ${path} is not documented`);
  let response = op.responses[String(status)];
  if (!response) throw new Error(`${method} ${path} does not document ${status}`);
  if (response.$ref) response = spec.components.responses[String(response.$ref).split('/').pop()!];
  return response.content['application/json'].schema;
}

describe('openapi.yaml', () => {
  it('documents exactly the routes the server implements', () => {
    const none = {} as Store;
    const implemented = domains
      .flatMap((d) => d.routes(none))
      .map((r) => `${r.method} ${r.pattern.replace(/:(\w+)/g, '{$1}')}`);
    implemented.push(
      'GET /healthz',
      'GET /_sandbox/faults',
      'PUT /_sandbox/faults',
      'DELETE /_sandbox/faults',
      'GET /_sandbox/requests',
      'DELETE /_sandbox/requests',
    );
    const documented = Object.entries(spec.paths as Record<string, Record<string, unknown>>).flatMap(
      ([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`),
    );
    expect(documented.sort()).toEqual(implemented.sort());
    expect(spec.openapi).toBe('3.1.0');
  });

  it('has a checker that actually rejects wrong shapes', () => {
    expect(validate({ name: 1 }, spec.components.schemas.Service).length).toBeGreaterThan(1);
    expect(validate({ unexpected: true }, spec.components.schemas.Health)).toContain(
      '$: unexpected property unexpected',
    );
    expect(
      validate({ id: 'x', kind: 'adr', status: 'draft' }, spec.components.schemas.Document).some((e) =>
        e.includes('oneOf'),
      ),
    ).toBe(true);
  });

  describe('responses match their schemas', () => {
    let sb: Sandbox;
    beforeAll(async () => {
      sb = await startSandbox();
    });
    afterAll(() => sb.close());

    const cases: [string, string, string, number, (sb: Sandbox) => string, unknown?][] = [
      ['GET', '/healthz', '/healthz', 200, () => ''],
      [
        'GET',
        '/platform/v1/services',
        '/platform/v1/services?limit=100',
        200,
        (s) => s.tokens['platform-ops'],
      ],
      ['GET', '/platform/v1/services', '/platform/v1/services?limit=0', 400, (s) => s.tokens['platform-ops']],
      ['GET', '/platform/v1/services', '/platform/v1/services', 401, () => ''],
      ['GET', '/platform/v1/services', '/platform/v1/services', 403, (s) => s.tokens.docs],
      [
        'GET',
        '/platform/v1/services/{service}',
        '/platform/v1/services/payments-gateway',
        200,
        (s) => s.tokens['platform-ops'],
      ],
      [
        'GET',
        '/platform/v1/services/{service}',
        '/platform/v1/services/nope',
        404,
        (s) => s.tokens['platform-ops'],
      ],
      [
        'GET',
        '/platform/v1/services/{service}/health',
        '/platform/v1/services/payments-gateway/health?environment=staging',
        200,
        (s) => s.tokens['platform-ops'],
      ],
      [
        'GET',
        '/platform/v1/services/{service}/health',
        '/platform/v1/services/checkout-api/health?environment=production',
        200,
        (s) => s.tokens['platform-ops'],
      ],
      [
        'GET',
        '/platform/v1/services/{service}/deploys',
        '/platform/v1/services/search-indexer/deploys?limit=100',
        200,
        (s) => s.tokens['platform-ops'],
      ],
      [
        'GET',
        '/platform/v1/runbooks',
        '/platform/v1/runbooks?limit=100',
        200,
        (s) => s.tokens['platform-ops'],
      ],
      [
        'GET',
        '/platform/v1/runbooks',
        '/platform/v1/runbooks?query=latency',
        200,
        (s) => s.tokens['platform-ops'],
      ],
      [
        'GET',
        '/platform/v1/runbooks/{id}',
        '/platform/v1/runbooks/rb-cache-eviction',
        200,
        (s) => s.tokens['platform-ops'],
      ],
      [
        'POST',
        '/platform/v1/services/{service}/rollbacks',
        '/platform/v1/services/order-service/rollbacks',
        201,
        (s) => s.tokens['platform-ops'],
        { environment: 'staging', reason: 'schema check' },
      ],
      ['GET', '/docs/v1/documents', '/docs/v1/documents?limit=100', 200, (s) => s.tokens.docs],
      ['GET', '/docs/v1/documents', '/docs/v1/documents?query=kafka&limit=100', 200, (s) => s.tokens.docs],
      ['GET', '/docs/v1/documents/{id}', '/docs/v1/documents/std-api-versioning', 200, (s) => s.tokens.docs],
      [
        'GET',
        '/docs/v1/documents/{id}',
        '/docs/v1/documents/adr-0001-use-postgresql-default-relational',
        200,
        (s) => s.tokens.docs,
      ],
      ['GET', '/docs/v1/ownership/{service}', '/docs/v1/ownership/checkout-api', 200, (s) => s.tokens.docs],
      ['GET', '/support/v1/tickets', '/support/v1/tickets?limit=100', 200, (s) => s.tokens.support],
      [
        'GET',
        '/support/v1/tickets',
        '/support/v1/tickets?query=invoice&limit=100',
        200,
        (s) => s.tokens.support,
      ],
      ['GET', '/support/v1/tickets/{id}', '/support/v1/tickets/T-10004', 200, (s) => s.tokens.support],
      [
        'POST',
        '/support/v1/tickets/{id}/notes',
        '/support/v1/tickets/T-10004/notes',
        201,
        (s) => s.tokens.support,
        { body: 'n', author: 'a' },
      ],
      [
        'POST',
        '/support/v1/tickets/{id}/escalations',
        '/support/v1/tickets/T-10004/escalations',
        201,
        (s) => s.tokens.support,
        { reason: 'r', level: 'tier2' },
      ],
      ['GET', '/_sandbox/faults', '/_sandbox/faults', 200, (s) => s.controlToken],
      ['GET', '/_sandbox/requests', '/_sandbox/requests', 200, (s) => s.controlToken],
    ];

    for (const [method, template, url, status, tokenOf, body] of cases) {
      it(`${method} ${url} -> ${status}`, async () => {
        const res = await call(sb, url, {
          token: tokenOf(sb),
          method,
          ...(body ? { body, headers: { 'idempotency-key': `schema-${url}` } } : {}),
        });
        expect(res.status, res.text.slice(0, 300)).toBe(status);
        expect(validate(res.json, responseSchema(template, method, status))).toEqual([]);
      });
    }

    it('customer routes, credits and fault rules match too', async () => {
      const token = sb.tokens.support;
      const t = (await call(sb, '/support/v1/tickets/T-10004', { token })).json;
      const credit = await call(sb, `/support/v1/customers/${t.customerId}/credits`, {
        token,
        body: { amountCents: 100, currency: 'USD', reason: 'schema' },
        headers: { 'idempotency-key': 'schema-credit' },
      });
      expect(
        validate(credit.json, responseSchema('/support/v1/customers/{id}/credits', 'POST', 201)),
      ).toEqual([]);
      const customer = await call(sb, `/support/v1/customers/${t.customerId}`, { token });
      expect(validate(customer.json, responseSchema('/support/v1/customers/{id}', 'GET', 200))).toEqual([]);
      const tickets = await call(sb, `/support/v1/customers/${t.customerId}/tickets?limit=100`, { token });
      expect(
        validate(tickets.json, responseSchema('/support/v1/customers/{id}/tickets', 'GET', 200)),
      ).toEqual([]);
      const rules = {
        rules: [
          {
            method: 'GET',
            path: '/docs',
            times: 1,
            rate: 0.5,
            latencyMs: 1,
            status: 503,
            retryAfter: '1',
            body: 'html',
            drip: { chunkBytes: 1, intervalMs: 1 },
          },
          { hang: true },
          { reset: true },
          { path: '/platform', status: 503, retryAfter: 'Wed, 21 Oct 2015 07:28:00 GMT' },
          ...FAULT_BODIES.map((body) => ({ path: '/support', body })),
        ],
      };
      expect(validate(rules, spec.components.schemas.FaultRules)).toEqual([]);
      // Every body the sandbox implements is in the contract, and nothing else.
      expect(spec.components.schemas.FaultRule.properties.body.enum).toEqual([...FAULT_BODIES]);
      const put = await call(sb, '/_sandbox/faults', { token: sb.controlToken, method: 'PUT', body: rules });
      expect(validate(put.json, responseSchema('/_sandbox/faults', 'PUT', 200))).toEqual([]);
      const del = await call(sb, '/_sandbox/faults', { token: sb.controlToken, method: 'DELETE' });
      expect(validate(del.json, responseSchema('/_sandbox/faults', 'DELETE', 200))).toEqual([]);
      const cleared = await call(sb, '/_sandbox/requests', { token: sb.controlToken, method: 'DELETE' });
      expect(validate(cleared.json, responseSchema('/_sandbox/requests', 'DELETE', 200))).toEqual([]);
    });
  });
});
