import type { FaultRule } from './faults.ts';
import type { RequestRecord, Sandbox } from './types.ts';

/**
 * A typed client for the sandbox's control API, for tests and benchmarks that
 * inject faults and inspect what reached the upstream.
 */
export function sandboxControl(sandbox: Pick<Sandbox, 'url' | 'controlToken'>) {
  const call = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${sandbox.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${sandbox.controlToken}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (!response.ok)
      throw new Error(`sandbox control ${method} ${path}: HTTP ${response.status} ${await response.text()}`);
    return response.status === 204 ? undefined : response.json();
  };
  return {
    setFaults: (rules: FaultRule[]) => call('PUT', '/_sandbox/faults', { rules }),
    clearFaults: () => call('DELETE', '/_sandbox/faults'),
    requests: async (): Promise<RequestRecord[]> =>
      ((await call('GET', '/_sandbox/requests')) as { items: RequestRecord[] }).items,
    clearRequests: () => call('DELETE', '/_sandbox/requests'),
  };
}
export type SandboxControl = ReturnType<typeof sandboxControl>;
