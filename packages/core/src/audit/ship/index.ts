/**
 * Shipping the audit trail to syslog (loaded only when `<P>_AUDIT_SYSLOG` is
 * set): the spool folder, the TLS sender and the shipper the trail feeds.
 */
import { ConfigError } from '../../config/env.ts';
import type { TrailLog } from '../log.ts';
import { SyslogSender } from './sender.ts';
import { AuditShipper } from './shipper.ts';
import { Spool } from './spool.ts';

export interface ShipSettings {
  /** `tls://host:port`. */
  syslog: string;
  /** PEM text of the CA, client certificate and key (each may come from `<NAME>_FILE`). */
  ca?: string;
  cert?: string;
  key?: string;
  spoolDir: string;
  spoolMaxBytes: number;
  /** How long bytes must have been out on a live connection before the spool forgets them. */
  confirmMs?: number;
}

/** Parses `tls://host:port` (IPv6 in brackets); anything else is a ConfigError naming `what`. */
export function parseSyslogTarget(value: string, what: string): { host: string; port: number } {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`${what} must look like tls://host:6514 (got ${JSON.stringify(value)})`);
  }
  if (url.protocol !== 'tls:')
    throw new ConfigError(`${what}: only tls:// is supported (the trail never leaves the box in clear text)`);
  const port = Number(url.port || 6514);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (!host || url.pathname.replace(/^\/$/, '') !== '' || url.username)
    throw new ConfigError(`${what} must look like tls://host:6514 (got ${JSON.stringify(value)})`);
  return { host, port };
}

export function startShipping(
  settings: ShipSettings,
  origin: { app: string; replica: string },
  log: TrailLog,
  names: { syslog: string; spoolDir: string },
): AuditShipper {
  const target = parseSyslogTarget(settings.syslog, names.syslog);
  if ((settings.cert === undefined) !== (settings.key === undefined))
    throw new ConfigError(`${names.syslog}: a client certificate needs its key, and a key its certificate`);
  const spool = new Spool(settings.spoolDir, settings.spoolMaxBytes, names.spoolDir);
  const sender = new SyslogSender(
    spool,
    { ...target, ca: settings.ca, cert: settings.cert, key: settings.key },
    log,
    settings.confirmMs,
  );
  return new AuditShipper(spool, sender, { ...origin, pid: process.pid }, log);
}
