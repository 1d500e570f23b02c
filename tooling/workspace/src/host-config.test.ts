import { describe, expect, it } from 'vitest';
import {
  HOST_CONFIG_END,
  HOST_CONFIG_START,
  HOSTS,
  hostConfig,
  REGISTRY_PLACEHOLDER,
  readmeHostConfigs,
  withHostConfig,
} from './host-config.ts';

const billing = {
  name: 'billing',
  packageName: '@gatehouse/billing',
  version: '1.4.2',
  envPrefix: 'BILLING',
};
const readme = `# billing\n\n## Host configuration\n\n${HOST_CONFIG_START}\n${HOST_CONFIG_END}\n\n## More\n`;

describe('host configuration blocks', () => {
  it('start the exact version with npx from the registry named for the scope, for every host', () => {
    for (const host of HOSTS) {
      const config = hostConfig(host, [billing]);
      const entry = (config.mcpServers ?? config.servers)?.billing;
      expect(entry?.command, host.id).toBe('npx');
      expect(entry?.args, host.id).toEqual([
        '-y',
        `--@gatehouse:registry=${REGISTRY_PLACEHOLDER}`,
        '@gatehouse/billing@1.4.2',
      ]);
      expect(Object.keys(entry?.env ?? {}).sort(), host.id).toEqual([
        'BILLING_API_TOKEN',
        'BILLING_API_URL',
        'BILLING_AUDIT_FILE',
      ]);
    }
  });

  it('use each host’s shape: VS Code its own `servers` with a secret input, the others `mcpServers`', () => {
    const vscode = hostConfig(HOSTS.find((h) => h.id === 'vscode')!, [billing]);
    expect(vscode.servers?.billing?.type).toBe('stdio');
    expect(vscode.servers?.billing?.env.BILLING_API_TOKEN).toBe(`\${input:billing-api-token}`);
    expect(vscode.inputs).toEqual([
      { id: 'billing-api-token', type: 'promptString', description: 'billing API token', password: true },
    ]);
    const desktop = hostConfig(HOSTS.find((h) => h.id === 'claude-desktop')!, [billing]);
    expect(desktop.mcpServers?.billing?.env.BILLING_AUDIT_FILE).toBe(
      '<your-home-folder>/.local/state/gatehouse/billing/audit.jsonl',
    );
  });

  it('are written between the README markers and read back as a user would copy them', () => {
    const written = withHostConfig(readme, billing);
    expect(written).toContain('## More');
    expect(withHostConfig(written, billing)).toBe(written);
    const blocks = readmeHostConfigs(written);
    expect([...blocks.keys()]).toEqual(HOSTS.map((h) => h.id));
    for (const host of HOSTS) expect(blocks.get(host.id)).toEqual(hostConfig(host, [billing]));
    expect(() => withHostConfig('# no markers\n', billing)).toThrow(/host-config markers/);
  });
});
