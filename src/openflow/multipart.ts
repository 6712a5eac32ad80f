// MULTIPART (OF1.3+) / STATS (OF1.0) requests and replies: a small header
// (type, flags) and a body chosen by type, one table row per statistics kind.
// Replies too large for one message are split with the MORE flag and put back
// together by MultipartAssembler.

import { OfError } from './errors.js';
import { portCodec, type Port } from './port.js';
import { list, pad, str, struct, u32, type Codec, type Reader, type Writer } from './wire.js';

export const OFPMPF_REQ_MORE = 1;
export const OFPMPF_REPLY_MORE = 1;

const descFields = {
  mfr_desc: str(256),
  hw_desc: str(256),
  sw_desc: str(256),
  serial_num: str(32),
  dp_desc: str(256),
};
export interface Desc {
  mfr_desc: string;
  hw_desc: string;
  sw_desc: string;
  serial_num: string;
  dp_desc: string;
}
const desc = struct(descFields, { what: 'ofp_desc' });

export interface PortDescRequest {
  /** OF1.5 only: the port asked about (OFPP_ANY for all). */
  port_no?: number;
}
const empty = struct({});

/** A reply made of a list of entries, which is what MORE splitting and reassembly work on. */
export interface Entries<T> {
  entries: T[];
}

function entries<T>(item: Codec<T>, what: string): Codec<Entries<T>> {
  return struct({ entries: list(item, what) });
}

/** Statistics kind → request body and reply body. Names are the OF1.3 OFPMP_* names. */
export interface MultipartBodies {
  DESC: { request: Record<string, never>; reply: Desc };
  PORT_DESC: { request: PortDescRequest; reply: Entries<Port> };
}
export type MultipartKind = keyof MultipartBodies;

export type MultipartRequest = {
  [K in MultipartKind]: { stat: K; flags: number; body: MultipartBodies[K]['request'] };
}[MultipartKind];
export type MultipartReply = {
  [K in MultipartKind]: { stat: K; flags: number; body: MultipartBodies[K]['reply'] };
}[MultipartKind];

interface StatRow {
  readonly stat: MultipartKind;
  readonly type: number;
  readonly request: Codec<unknown>;
  readonly reply: Codec<unknown>;
  /** For list replies: one entry's codec (used to split by size). */
  readonly entry?: Codec<unknown>;
}

function statRows(version: number): StatRow[] {
  const portDescRequest: Codec<PortDescRequest> = version >= 6
    ? struct({ port_no: u32, _pad: pad(4) }) as Codec<PortDescRequest>
    : empty as Codec<PortDescRequest>;
  return [
    { stat: 'DESC', type: 0, request: empty, reply: desc },
    // OF1.0 has no PORT_DESC; type 13 there is an OVS extension that ovs-ofctl uses.
    { stat: 'PORT_DESC', type: 13, request: portDescRequest, reply: entries(portCodec(version), 'ports'), entry: portCodec(version) },
  ];
}

/** The MULTIPART/STATS body codec for one version and direction. */
export function multipartCodec(version: number, dir: 'request' | 'reply'): Codec<MultipartRequest | MultipartReply> {
  const rows = statRows(version);
  const byType = new Map(rows.map((r) => [r.type, r]));
  const byStat = new Map(rows.map((r) => [r.stat, r]));
  // OF1.0's ofp_stats_* header has no padding; OF1.1+ pads to 8.
  const headerPad = version === 1 ? 0 : 4;
  const rowFor = (stat: MultipartKind): StatRow => {
    const r = byStat.get(stat);
    if (!r) throw new RangeError(`multipart ${stat} does not exist in version ${version}`);
    return r;
  };
  return {
    size: (v) => 4 + headerPad + rowFor(v.stat)[dir].size(v.body),
    write: (w: Writer, v) => {
      const r = rowFor(v.stat);
      w.u16(r.type);
      w.u16(v.flags);
      w.zeros(headerPad);
      r[dir].write(w, v.body);
    },
    read: (r: Reader) => {
      const type = r.u16();
      const flags = r.u16();
      r.take(headerPad, 'multipart padding');
      const row = byType.get(type);
      if (!row) throw new OfError('OFPBRC_BAD_STAT', `multipart type ${type} in version ${version}`);
      return { stat: row.stat, flags, body: row[dir].read(r) } as MultipartRequest | MultipartReply;
    },
  };
}

/**
 * Splits a list reply into parts that each fit `maxBody` bytes of body, all
 * but the last flagged MORE. Non-list replies come back unchanged.
 */
export function splitMultipartReply(reply: MultipartReply, version: number, maxBody = 0xffff - 16): MultipartReply[] {
  const item = statRows(version).find((r) => r.stat === reply.stat)?.entry;
  if (!item || !('entries' in reply.body)) return [reply];
  const parts: MultipartReply[] = [];
  const part = (es: unknown[], more: boolean) => ({
    stat: reply.stat,
    flags: more ? reply.flags | OFPMPF_REPLY_MORE : reply.flags & ~OFPMPF_REPLY_MORE,
    body: { entries: es },
  }) as MultipartReply;
  let current: unknown[] = [];
  let size = 0;
  for (const e of reply.body.entries as unknown[]) {
    const n = item.size(e);
    if (n > maxBody) throw new RangeError('a single multipart entry exceeds the message limit');
    if (size + n > maxBody && current.length) {
      parts.push(part(current, true));
      current = [];
      size = 0;
    }
    current.push(e);
    size += n;
  }
  parts.push(part(current, false));
  return parts;
}

/**
 * Puts MORE-flagged replies back together, per xid. push() returns the whole
 * reply once the part without MORE arrives, and undefined before.
 */
export class MultipartAssembler {
  private readonly pending = new Map<number, MultipartReply>();
  private readonly parts = new Map<number, number>();

  /** `maxParts` bounds what a peer can make us hold for one xid (OFPBRC_MULTIPART_BUFFER_OVERFLOW beyond it). */
  constructor(private readonly maxParts = 4096) {}

  push(xid: number, part: MultipartReply): MultipartReply | undefined {
    const n = (this.parts.get(xid) ?? 0) + 1;
    if (n > this.maxParts) {
      this.pending.delete(xid);
      this.parts.delete(xid);
      throw new OfError('OFPBRC_MULTIPART_BUFFER_OVERFLOW', `multipart xid ${xid}: more than ${this.maxParts} parts`);
    }
    this.parts.set(xid, n);
    const prev = this.pending.get(xid);
    let merged = part;
    if (prev) {
      if (prev.stat !== part.stat || !('entries' in prev.body) || !('entries' in part.body)) {
        this.pending.delete(xid);
        this.parts.delete(xid);
        throw new OfError('OFPBRC_BAD_STAT', `multipart xid ${xid}: ${part.stat} continues a ${prev.stat} reply`);
      }
      merged = { stat: part.stat, flags: part.flags, body: { entries: [...prev.body.entries, ...part.body.entries] } } as MultipartReply;
    }
    if (part.flags & OFPMPF_REPLY_MORE) {
      this.pending.set(xid, merged);
      return undefined;
    }
    this.pending.delete(xid);
    this.parts.delete(xid);
    return merged;
  }
}
