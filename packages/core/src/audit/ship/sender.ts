/**
 * Sends the spool to a syslog receiver over TLS, octet-counted (RFC 5425 /
 * RFC 6587), and moves the spool's cursor only for bytes the receiver has.
 * Syslog has no acknowledgement, so "has" is: written on a connection that
 * then stayed up for `confirmMs`: a receiver that stops closes its
 * connections, and what was sent within that time is sent again on the next
 * one (a clean close is no proof either: the receiver's FIN may have crossed
 * our last bytes). Duplicates are expected; the receiver drops them by
 * sequence. Reconnects back off from 100 ms to 5 s.
 */
import { connect, type TLSSocket } from 'node:tls';
import type { TrailLog } from '../log.ts';
import type { Spool } from './spool.ts';
import { frame } from './syslog.ts';

export interface SyslogTarget {
  host: string;
  port: number;
  /** PEM: the CA(s) the receiver's certificate must chain to (the system's when absent). */
  ca?: string;
  /** PEM client certificate and key, for a receiver that asks for one. */
  cert?: string;
  key?: string;
}

interface InFlight {
  end: number;
  /** When the bytes left for the kernel; undefined until then. */
  at: number | undefined;
}

const HIGH_WATER = 1024 * 1024;

export class SyslogSender {
  private socket: TLSSocket | undefined;
  private connected = false;
  private sent: number;
  private inFlight: InFlight[] = [];
  private backoff = 100;
  private reconnect: NodeJS.Timeout | undefined;
  private readonly tick: NodeJS.Timeout;
  private closing = false;
  private failures = 0;

  private readonly spool: Spool;
  private readonly target: SyslogTarget;
  private readonly log: TrailLog;
  private readonly confirmMs: number;

  constructor(spool: Spool, target: SyslogTarget, log: TrailLog, confirmMs = 2_000) {
    this.spool = spool;
    this.target = target;
    this.log = log;
    this.confirmMs = confirmMs;
    this.sent = spool.delivered;
    this.tick = setInterval(() => this.confirm(), Math.min(250, confirmMs));
    this.tick.unref();
    this.open();
  }

  /** Whether a connection is up (for health reports). */
  get up(): boolean {
    return this.connected;
  }

  /** Called after an append: sends what is new when connected. */
  wake(): void {
    this.pump();
  }

  private open(): void {
    this.reconnect = undefined;
    if (this.closing) return;
    const socket = connect({
      host: this.target.host,
      port: this.target.port,
      ca: this.target.ca,
      cert: this.target.cert,
      key: this.target.key,
      servername: /^[\d.:]+$/.test(this.target.host) ? undefined : this.target.host,
    });
    this.socket = socket;
    socket.unref();
    socket.setNoDelay(true);
    socket.once('secureConnect', () => {
      this.connected = true;
      this.backoff = 100;
      if (this.failures > 0)
        this.log.info(
          { failures: this.failures, backlog: this.spool.backlog },
          'audit syslog connected again',
        );
      this.failures = 0;
      this.pump();
    });
    socket.on('drain', () => this.pump());
    socket.on('data', () => {}); // A receiver says nothing; read so a close is seen.
    socket.on('end', () => this.lost(socket, undefined));
    socket.on('error', (error) => this.lost(socket, error));
    socket.on('close', () => this.lost(socket, undefined));
  }

  /** A connection is gone: what it did not confirm goes again on the next one. */
  private lost(socket: TLSSocket, error: Error | undefined): void {
    if (this.socket !== socket) return;
    socket.destroy();
    this.socket = undefined;
    this.connected = false;
    this.inFlight = [];
    this.sent = this.spool.delivered;
    if (this.closing) return;
    if (this.failures === 0)
      this.log.warn(
        { err: error, target: `${this.target.host}:${this.target.port}` },
        'audit syslog connection lost: spooling until it is back',
      );
    this.failures += 1;
    this.reconnect = setTimeout(() => this.open(), this.backoff);
    this.reconnect.unref();
    this.backoff = Math.min(this.backoff * 2, 5_000);
  }

  private pump(): void {
    const socket = this.socket;
    if (!socket || !this.connected) return;
    while (this.sent < this.spool.end && socket.writableLength < HIGH_WATER) {
      const { messages, next } = this.spool.read(this.sent);
      if (messages.length === 0) break;
      const entry: InFlight = { end: next, at: undefined };
      this.inFlight.push(entry);
      this.sent = next;
      const data = Buffer.concat(messages.map(frame));
      socket.write(data, (error) => {
        if (!error) entry.at = Date.now();
      });
    }
  }

  /** Moves the cursor past what has been out long enough on a connection still up. */
  private confirm(): void {
    if (!this.connected) return;
    const before = Date.now() - this.confirmMs;
    let confirmed: number | undefined;
    while (this.inFlight[0]?.at !== undefined && this.inFlight[0].at <= before)
      confirmed = this.inFlight.shift()!.end;
    if (confirmed !== undefined) this.commit(confirmed);
  }

  private commit(offset: number): void {
    try {
      this.spool.commit(offset);
    } catch (error) {
      // The cursor stays behind: those messages are sent again (duplicates, never a loss).
      this.log.warn({ err: error }, 'audit spool cursor could not be saved');
    }
  }

  /**
   * Sends what is spooled and waits for it to be confirmed (up to
   * `timeoutMs`), then ends the connection. What is not confirmed by then
   * stays in the spool and goes again after a restart.
   */
  async close(timeoutMs = this.confirmMs + 1_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    // Disconnected with a backlog: one more attempt now rather than after the backoff.
    if (!this.socket && this.spool.backlog > 0) {
      if (this.reconnect) clearTimeout(this.reconnect);
      this.open();
    }
    while (
      (this.socket !== undefined || this.reconnect !== undefined) &&
      (!this.connected || this.sent < this.spool.end || this.inFlight.length > 0) &&
      this.spool.backlog > 0 &&
      Date.now() < deadline
    ) {
      this.pump();
      this.confirm();
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    this.closing = true;
    clearInterval(this.tick);
    if (this.reconnect) clearTimeout(this.reconnect);
    const socket = this.socket;
    this.socket = undefined;
    this.connected = false;
    socket?.end();
    socket?.destroySoon();
  }
}
