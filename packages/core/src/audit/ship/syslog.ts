/**
 * RFC 5424 messages for the audit trail, and RFC 6587 octet-counted framing.
 * One message per chained line: MSGID `audit` for a record, `checkpoint` for a
 * signed checkpoint; the structured data carries the line's place in its chain
 * (`seq`: the record's line number in the log, or the checkpoint's own number)
 * and the replica whose chain it is, so a receiver drops duplicates by
 * (replica, kind, seq) and rebuilds a copy that `verify-audit` checks. The
 * chained line itself is the MSG, byte for byte.
 */

/** The private enterprise number RFC 5612 sets aside for documentation and examples. */
const SD_ID = 'gatehouse@32473';

export type ShipKind = 'audit' | 'checkpoint';

export interface ShipItem {
  kind: ShipKind;
  /** Place in the chain: 1-based record number of the log, or the checkpoint's number. */
  seq: number;
  /** The chained line exactly as written to the log or the anchor file (no newline). */
  line: string;
}

export interface MessageOrigin {
  /** The server's name (APP-NAME). */
  app: string;
  /** The replica whose chain this is (HOSTNAME and an SD parameter). */
  replica: string;
  pid: number;
}

// Facility 13 ("log audit"); severity 6 (informational) for records, 5 (notice) for checkpoints.
const PRI: Record<ShipKind, number> = { audit: 13 * 8 + 6, checkpoint: 13 * 8 + 5 };

/** A header field: printable US-ASCII without spaces, at most `max` characters, `-` when empty. */
function headerField(value: string, max: number): string {
  const clean = value.replace(/[^\x21-\x7e]/g, '_').slice(0, max);
  return clean || '-';
}

/** An SD-PARAM value with `"`, `\` and `]` escaped (RFC 5424 section 6.3.3). */
function paramValue(value: string): string {
  return value.replace(/["\\\]]/g, (c) => `\\${c}`);
}

/** One RFC 5424 message (no framing, no newline). */
export function formatMessage(item: ShipItem, origin: MessageOrigin, time = new Date()): string {
  const sd = `[${SD_ID} seq="${item.seq}" replica="${paramValue(origin.replica)}"]`;
  return [
    `<${PRI[item.kind]}>1`,
    time.toISOString(),
    headerField(origin.replica, 255),
    headerField(origin.app, 48),
    headerField(String(origin.pid), 128),
    item.kind,
    sd,
    item.line,
  ].join(' ');
}

/** RFC 6587 octet counting: the message's length in bytes, a space, the message. */
export function frame(message: string): Buffer {
  const body = Buffer.from(message, 'utf8');
  return Buffer.concat([Buffer.from(`${body.length} `), body]);
}

/** What a receiver needs from one message; undefined for a message that is not ours. */
export function parseMessage(
  message: string,
): { kind: ShipKind; seq: number; replica: string; line: string } | undefined {
  const match =
    /^<\d{1,3}>1 \S+ \S+ \S+ \S+ (audit|checkpoint) \[gatehouse@32473 seq="(\d+)" replica="((?:[^"\\]|\\.)*)"\] (.*)$/s.exec(
      message,
    );
  if (!match) return undefined;
  return {
    kind: match[1] as ShipKind,
    seq: Number(match[2]),
    replica: match[3]!.replace(/\\(.)/g, '$1'),
    line: match[4]!,
  };
}
