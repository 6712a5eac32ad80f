// Multipart (statistics) requests: every kind a switch answers, in the
// reply form of the connection's version, split into MORE-flagged parts
// when a reply outgrows one message.

import {
  OfError, OFPMPF_REQ_MORE, multipartParts, splitMultipartReply, port11To10,
  type MessageOf, type MultipartReply, type OfMessage, type MultipartRequest,
} from '../openflow/index.js';
import type { OfConn } from './connmgr.js';
import { decodeFlowStatsRequest, port16, TABLE_ALL, N_TABLES } from './flow-mod.js';
import type { Ofproto } from './ofproto.js';
import { port32 } from './ofproto.js';
import { nowMs } from './rule.js';
import { tableFeatures } from './table-features.js';

/** OFPP_ANY / OFPP_NONE in the switch's 16-bit space. */
const PORT_ANY = 0xffff;

const featuresCache = new WeakMap<Ofproto, Map<number, { sig: string; parts: MultipartReply[] }>>();

function reply(conn: OfConn, req: MessageOf<'MULTIPART_REQUEST'>, body: MultipartReply): void {
  const parts = splitMultipartReply(body, conn.version);
  for (const p of parts) conn.send({ version: conn.version, xid: req.xid, kind: 'MULTIPART_REPLY', body: p } as OfMessage);
}

function list(stat: MultipartReply['stat'], entries: unknown[]): MultipartReply {
  return { stat, flags: 0, body: { entries } } as MultipartReply;
}

/** A port number in a request: OF1.0's 16 bits as they are, OF1.1+ converted (unknown reserved ports are BAD_PORT). */
function reqPort(p: number, version: number): number {
  if (version === 1) return p;
  const q = port11To10(p);
  if (q === undefined) throw new OfError('OFPBRC_BAD_PORT', `port ${p}`);
  return q;
}

/** The group id of a group statistics request, whichever wrapping its row gives it. */
function idOf(body: unknown): { id: number } {
  const b = body as { id?: number; body?: { id?: number } };
  return { id: b.id ?? b.body?.id ?? 0xfffffffc };
}

export function handleMultipart(of: Ofproto, conn: OfConn, msg: MessageOf<'MULTIPART_REQUEST'>): void {
  const v = conn.version;
  const req: MultipartRequest = msg.body;
  // Parts of a split request (only TABLE_FEATURES is ever split) are answered once the last arrives.
  if (req.flags & OFPMPF_REQ_MORE) return;
  const now = nowMs();
  switch (req.stat) {
    case 'FLOW_MONITOR':
    case 'NX_FLOW_MONITOR':
      of.monitors.handleRequest(conn, msg);
      return;
    case 'DESC':
      reply(conn, msg, {
        stat: 'DESC', flags: 0,
        body: { mfr_desc: of.desc.mfr, hw_desc: of.desc.hw, sw_desc: of.desc.sw, serial_num: of.desc.serial, dp_desc: of.desc.dp },
      });
      return;
    case 'FLOW':
    case 'NX_FLOW': {
      const nx = req.stat === 'NX_FLOW';
      const q = decodeFlowStatsRequest(req.body, v, nx);
      const rules = of.queryRules(q);
      // Entries are made part by part as the parts are sent: a dump of many flows never holds all its entries at once.
      const entries = (function* () { for (const r of rules) yield r.statsEntry(v, now, nx); })();
      for (const body of multipartParts(req.stat, 0, entries, v)) {
        conn.send({ version: v, xid: msg.xid, kind: 'MULTIPART_REPLY', body } as OfMessage);
      }
      return;
    }
    case 'AGGREGATE':
    case 'NX_AGGREGATE': {
      const q = decodeFlowStatsRequest(req.body, v, req.stat === 'NX_AGGREGATE');
      let packets = 0n;
      let bytes = 0n;
      let flows = 0;
      for (const r of of.queryRules(q)) {
        flows++;
        if (!(r.flags & 8)) packets += BigInt(r.packets);
        if (!(r.flags & 16)) bytes += BigInt(r.bytes);
      }
      const body = v >= 6
        ? { stats: { flow_count: BigInt(flows), packet_count: packets, byte_count: bytes } }
        : { packet_count: packets, byte_count: bytes, flow_count: flows };
      reply(conn, msg, { stat: req.stat, flags: 0, body } as MultipartReply);
      return;
    }
    case 'TABLE': {
      const entries = of.tables.map((t) => (v === 1
        ? {
          table_id: t.id, name: t.name ?? '', wildcards: 0x3fffff, max_entries: t.maxFlows,
          active_count: t.count, lookup_count: BigInt(t.lookups), matched_count: BigInt(t.matches),
        }
        : { table_id: t.id, active_count: t.count, lookup_count: BigInt(t.lookups), matched_count: BigInt(t.matches) }));
      reply(conn, msg, list('TABLE', entries));
      return;
    }
    case 'TABLE_FEATURES': {
      // ~700 kB of properties that change only with the tables' names and sizes: built once per version and kept.
      const sig = of.tables.map((t) => `${t.name ?? ''}/${t.maxFlows}`).join('|');
      let cached = featuresCache.get(of)?.get(v);
      if (cached?.sig !== sig) {
        cached = { sig, parts: splitMultipartReply(list('TABLE_FEATURES', of.tables.map((t) => tableFeatures(t, v))), v) };
        let perVersion = featuresCache.get(of);
        if (!perVersion) featuresCache.set(of, (perVersion = new Map()));
        perVersion.set(v, cached);
      }
      for (const p of cached.parts) conn.send({ version: v, xid: msg.xid, kind: 'MULTIPART_REPLY', body: p } as OfMessage);
      return;
    }
    case 'TABLE_DESC':
      // Eviction by OVS's criteria (other, importance, lifetime); vacancy events off.
      reply(conn, msg, list('TABLE_DESC', of.tables.map((t) => ({
        table_id: t.id, config: t.modConfig,
        properties: [{ type: 2, flags: 7 }, { type: 3, vacancy_down: 0, vacancy_up: 0, vacancy: 0 }],
      }))));
      return;
    case 'NX_GROUP':
      reply(conn, msg, list('NX_GROUP', of.groups.statsReply(idOf(req.body), 6)));
      return;
    case 'NX_GROUP_DESC':
      reply(conn, msg, list('NX_GROUP_DESC', of.groups.nxDescReply(idOf(req.body).id)));
      return;
    case 'NX_GROUP_FEATURES':
      // The action bitmaps in OpenFlow 1.0's numbering: output through enqueue.
      reply(conn, msg, {
        stat: 'NX_GROUP_FEATURES', flags: 0,
        body: { ...of.groups.featuresReply(1), actions: { all: 0xfff, select: 0xfff, indirect: 0xfff, ff: 0xfff } },
      } as MultipartReply);
      return;
    case 'PORT_STATS': {
      const p = reqPort((req.body as { port_no: number }).port_no, v);
      const ports = [...of.ports.values()].filter((x) => p === PORT_ANY || p === x.ofport).sort((a, b) => a.ofport - b.ofport);
      if (p !== PORT_ANY && ports.length === 0 && v > 1) throw new OfError('OFPBRC_BAD_PORT', `no port ${p}`);
      reply(conn, msg, list('PORT_STATS', ports.map((x) => x.stats(v, port32))));
      return;
    }
    case 'PORT_DESC': {
      const body = req.body as { port_no?: number };
      const p = body.port_no === undefined ? PORT_ANY : reqPort(body.port_no, v);
      const ports = [...of.ports.values()].filter((x) => p === PORT_ANY || p === x.ofport).sort((a, b) => a.ofport - b.ofport);
      reply(conn, msg, list('PORT_DESC', ports.map((x) => x.describe(v, port32))));
      return;
    }
    case 'QUEUE_STATS': {
      const p = reqPort((req.body as { port_no: number }).port_no, v);
      if (p !== PORT_ANY && p !== 0xfffc && !of.ports.has(p)) throw new OfError('OFPQOFC_BAD_PORT', `no port ${p}`);
      // No port has queues configured (QoS is not part of the switch yet): an empty list, as OVS sends then.
      reply(conn, msg, list('QUEUE_STATS', []));
      return;
    }
    case 'QUEUE_DESC':
      reply(conn, msg, list('QUEUE_DESC', []));
      return;
    case 'GROUP':
      reply(conn, msg, list('GROUP', of.groups.statsReply(req.body, v)));
      return;
    case 'GROUP_DESC':
      reply(conn, msg, list('GROUP_DESC', of.groups.descReply(req.body, v)));
      return;
    case 'GROUP_FEATURES':
      reply(conn, msg, { stat: 'GROUP_FEATURES', flags: 0, body: of.groups.featuresReply(v) } as MultipartReply);
      return;
    case 'METER':
      reply(conn, msg, list('METER', of.meters.statsReply(req.body, v)));
      return;
    case 'METER_CONFIG':
      reply(conn, msg, list('METER_CONFIG', of.meters.configReply(req.body, v)));
      return;
    case 'METER_FEATURES':
      reply(conn, msg, { stat: 'METER_FEATURES', flags: 0, body: of.meters.featuresReply(v) } as MultipartReply);
      return;
    default:
      throw new OfError('OFPBRC_BAD_STAT', `${req.stat} statistics are not available`);
  }
}

export { TABLE_ALL, N_TABLES, port16 };
