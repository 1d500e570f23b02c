/**
 * Starts out-of-band approval for the HTTP transport, when approvers can sign
 * in (an issuer, the page's client id and a public URL are configured): opens
 * the shared store and checks the four-eyes rules against the tools. Without
 * sign-in a client that cannot ask in-band is refused as before, and four-eyes
 * rules are a start-up error (nobody could ever satisfy them).
 */
import { randomBytes } from 'node:crypto';
import { needsApproval } from '../call/definition.ts';
import type { Runtime } from '../call/runtime.ts';
import { ConfigError } from '../config/env.ts';
import type { HttpSettings } from '../http/settings.ts';
import { PageKeys } from './link.ts';
import { OutOfBand } from './out-of-band.ts';
import { assertRuleNames } from './settings.ts';
import { openApprovalStore } from './store.ts';

export async function openOutOfBand(
  runtime: Runtime,
  settings: HttpSettings,
): Promise<OutOfBand | undefined> {
  const p = settings.prefix;
  const approval = settings.approval;
  const approvable = new Map(
    [...runtime.tools.values()]
      .filter(({ tool }) => needsApproval(tool))
      .map(({ tool }) => [tool.name, Object.keys(tool.input.shape)] as const),
  );
  assertRuleNames(p, approval.fourEyes, approvable);
  const { issuer, publicUrl } = settings;
  if (settings.noAuth || !issuer || !approval.clientId || !publicUrl) {
    if (approval.fourEyes.length > 0)
      throw new ConfigError(
        `${p}_FOUR_EYES needs approvers who can sign in: set ${p}_OAUTH_ISSUER, ${p}_PUBLIC_URL and ${p}_APPROVAL_CLIENT_ID`,
      );
    return undefined;
  }
  if (!runtime.config.stateKey)
    runtime.log.debug('no state key configured: approval links are valid on this process only');
  const stateKey = runtime.config.stateKey ?? randomBytes(32).toString('base64url');
  let store: Awaited<ReturnType<typeof openApprovalStore>>;
  try {
    store = await openApprovalStore(approval.store);
  } catch (error) {
    const reason = (error as Error).message.split('\n')[0]?.slice(0, 200);
    throw new ConfigError(`${p}_APPROVAL_STORE cannot be opened: ${reason}`);
  }
  runtime.log.info(
    {
      store: store.kind,
      fourEyes: approval.fourEyes.map((r) => r.tool),
      webhook: approval.webhook !== undefined,
    },
    'out-of-band approval ready',
  );
  return new OutOfBand(store, approval, new PageKeys(stateKey), {
    server: runtime.definition.name,
    base: publicUrl,
    bindingKey: stateKey,
    log: runtime.log,
  });
}
