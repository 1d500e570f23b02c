/**
 * The example Ingress (deploy/k8s/examples/ingress.yaml): schema-valid, TLS at the ingress, the SSE
 * settings Streamable HTTP needs, and pointed at the Service and port the platform-ops overlay renders.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ingress } from 'kubernetes-models/networking.k8s.io/v1';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { render } from './src/kustomize.ts';
import { repoRoot, SERVERS } from './src/servers.ts';

const OPS = SERVERS.find((s) => s.name === 'platform-ops')!;

describe('the example Ingress', () => {
  const ingress = parse(readFileSync(join(repoRoot, 'deploy/k8s/examples/ingress.yaml'), 'utf8'));

  it('is a valid networking.k8s.io/v1 Ingress with TLS and the SSE settings', () => {
    new Ingress(ingress).validate();
    expect(ingress.spec.tls[0].secretName).toMatch(/-tls$/);
    expect(ingress.spec.tls[0].hosts).toEqual([ingress.spec.rules[0].host]);
    const a = ingress.metadata.annotations;
    expect(a['nginx.ingress.kubernetes.io/proxy-buffering']).toBe('off');
    expect(a['nginx.ingress.kubernetes.io/proxy-request-buffering']).toBe('off');
    expect(Number(a['nginx.ingress.kubernetes.io/proxy-read-timeout'])).toBeGreaterThanOrEqual(300);
    expect(Number(a['nginx.ingress.kubernetes.io/proxy-send-timeout'])).toBeGreaterThanOrEqual(300);
    expect(a['nginx.ingress.kubernetes.io/ssl-redirect']).toBe('true');
  });

  it("routes to the Service and port the overlay renders, in the overlay's namespace", () => {
    const docs = render(join(OPS.dir, 'deploy'));
    const service = docs.find((d) => d.kind === 'Service')!;
    const backend = ingress.spec.rules[0].http.paths[0].backend.service;
    expect(backend.name).toBe(service.metadata.name);
    expect(service.spec.ports.map((p: { name: string }) => p.name)).toContain(backend.port.name);
    expect(ingress.metadata.namespace).toBe(service.metadata.namespace);
  });
});
