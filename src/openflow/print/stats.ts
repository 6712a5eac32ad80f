// The bodies of multipart (stats) requests and replies, in the words and
// layout of OVS's ofp-print.

import type { GroupFeatures, GroupStats, MultipartReply, MultipartRequest } from '../index.js';
import type { Action } from '../index.js';
import type { Band, BucketLike, PrintOptions, TableDescLike } from './body.js';
import {
  FLOW_REMOVED_REASONS, actionBitmap, actionsOf, flowStats, group, groupId, matchText, meterConfig, meterId, queueRate, reasonName, stat, tableDesc,
} from './body.js';
import { flowUpdate, ipfixBridge, ipfixFlow, monitorRequest, nxEvent, nxMonitorFlags, portStatsExtras } from './extensions.js';
import { formatPhyPorts } from './ports.js';
import { formatTableFeatures } from './table-features.js';
import { bitNames, bitTable, duration, hex, port16, portName, u64 } from './util.js';

export function statsRequest(req: MultipartRequest, v: number, opts: PrintOptions): string {
  switch (req.stat) {
    case 'FLOW':
    case 'AGGREGATE':
    case 'NX_FLOW':
    case 'NX_AGGREGATE': {
      const b = req.body;
      let s = '';
      if (b.table_id !== 0xff) s += ` table=${b.table_id}`;
      if (port16(b.out_port, v) !== 0xffff) s += ` out_port=${portName(b.out_port, v)}`;
      return s + ' ' + matchText(opts, b.match, 0x8000, v);
    }
    case 'PORT_STATS':
      return ` port_no=${portName(req.body.port_no, v)}`;
    case 'QUEUE_STATS': {
      const q = req.body.queue_id;
      // OF1.0 says "all ports" with OFPP_ALL; OVS reads it as OFPP_ANY.
      const port = v === 1 && req.body.port_no === 0xfffc ? 0xffff : req.body.port_no;
      return ` port=${portName(port, v)} queue=${q === 0xffffffff ? 'ALL' : q}`;
    }
    case 'GROUP':
      return ` group_id=${groupId(req.body.id)}`;
    case 'GROUP_DESC':
      return ` group_id=${groupId('id' in req.body ? req.body.id : 0xfffffffc)}`;
    case 'METER':
    case 'METER_CONFIG':
      return ' ' + meterId(req.body.id, '=');
    case 'PORT_DESC':
      return ` port=${portName(req.body.port_no ?? 0xffffffff, v >= 4 ? v : 4)}`;
    case 'QUEUE_DESC': {
      const q = req.body.queue_id;
      return ` port=${portName(req.body.port_no, v)}` + (q !== 0xffffffff ? ` queue=${q}` : '');
    }
    case 'FLOW_MONITOR': {
      const b = req.body;
      return monitorRequest({ ...b, id: b.monitor_id, out_port: port16(b.out_port, v) }, v, opts);
    }
    case 'NX_FLOW_MONITOR': {
      const b = req.body.body;
      return monitorRequest({
        ...b, command: 0, flags: nxMonitorFlags(b.flags), out_port: port16(b.out_port, v), out_group: 0xffffffff,
      }, v, opts);
    }
    case 'NX_GROUP':
    case 'NX_GROUP_DESC':
      return ` group_id=${groupId(req.body.body.id)}`;
    case 'TABLE_FEATURES':
      return formatTableFeatures(req.body.entries, v);
    default:
      return '';
  }
}

export function statsReply(rep: MultipartReply, v: number, opts: PrintOptions): string {
  switch (rep.stat) {
    case 'DESC': {
      const d = rep.body;
      return `\nManufacturer: ${d.mfr_desc}\nHardware: ${d.hw_desc}\nSoftware: ${d.sw_desc}\nSerial Num: ${d.serial_num}\nDP Description: ${d.dp_desc}\n`;
    }
    case 'FLOW':
    case 'NX_FLOW': {
      let s = '';
      for (const e of rep.body.entries) {
        let sec: number, nsec: number, pkts: bigint, bytes: bigint, idleAge = -1, hardAge = -1;
        if ('stats' in e) {
          const d = e.stats.duration ?? 0n;
          sec = Number(d >> 32n);
          nsec = Number(d & 0xffffffffn);
          pkts = e.stats.packet_count ?? 0xffffffffffffffffn;
          bytes = e.stats.byte_count ?? 0xffffffffffffffffn;
          if (e.stats.idle_time !== undefined) idleAge = Number(e.stats.idle_time >> 32n);
        } else {
          sec = e.duration_sec;
          nsec = e.duration_nsec;
          pkts = e.packet_count;
          bytes = e.byte_count;
        }
        if ('idle_age' in e) {
          idleAge = Number(e.idle_age) - 1;
          hardAge = Number(e.hard_age) - 1;
        }
        s += '\n ' + flowStats({
          cookie: e.cookie, duration_sec: sec, duration_nsec: nsec, table_id: e.table_id, packet_count: pkts, byte_count: bytes,
          idle_timeout: e.idle_timeout, hard_timeout: e.hard_timeout, flags: 'flags' in e ? e.flags : 0,
          importance: 'importance' in e ? e.importance : 0, idle_age: idleAge, hard_age: hardAge, priority: e.priority, match: e.match,
          actions: actionsOf(opts, e as { actions?: readonly Action[] }, v),
        }, opts, v);
      }
      return s;
    }
    case 'AGGREGATE':
    case 'NX_AGGREGATE': {
      const b = rep.body;
      if ('stats' in b) return ` packet_count=${u64(b.stats.packet_count ?? 0n)} byte_count=${u64(b.stats.byte_count ?? 0n)} flow_count=${u64(b.stats.flow_count ?? 0n)}`;
      return ` packet_count=${u64(b.packet_count)} byte_count=${u64(b.byte_count)} flow_count=${b.flow_count}`;
    }
    case 'PORT_STATS': {
      let s = ` ${rep.body.entries.length} ports\n`;
      for (const p of rep.body.entries) {
        const no = port16(p.port_no, v);
        s += '  port ' + (no < 10 ? ' ' : '') + portName(p.port_no, v) + ': rx ';
        const eth = 'properties' in p ? p.properties.find((q) => q.type === 0 && 'rx_frame_err' in q) as { rx_frame_err: bigint; rx_over_err: bigint; rx_crc_err: bigint; collisions: bigint } | undefined : undefined;
        const ec = 'rx_frame_err' in p ? p : eth;
        const none = 0xffffffffffffffffn;
        s += `pkts=${stat(p.rx_packets)}bytes=${stat(p.rx_bytes)}drop=${stat(p.rx_dropped)}errs=${stat(p.rx_errors)}`;
        s += `frame=${stat(ec ? ec.rx_frame_err : none)}over=${stat(ec ? ec.rx_over_err : none)}crc=${stat(ec ? ec.rx_crc_err : none, true)}`;
        s += `           tx pkts=${stat(p.tx_packets)}bytes=${stat(p.tx_bytes)}drop=${stat(p.tx_dropped)}errs=${stat(p.tx_errors)}coll=${stat(ec ? ec.collisions : none, true)}`;
        if ('duration_sec' in p && p.duration_sec !== 0xffffffff) s += `           duration=${duration(p.duration_sec, p.duration_nsec)}\n`;
        if ('properties' in p) s += portStatsExtras(p.properties as readonly { type: number; data?: Uint8Array }[]);
      }
      return s;
    }
    case 'QUEUE_STATS': {
      let s = ` ${rep.body.entries.length} queues\n`;
      if (opts.verbosity < 1) return s;
      for (const q of rep.body.entries) {
        s += `  port ${portName(q.port_no, v)} queue ${q.queue_id === 0xffffffff ? 'ALL' : q.queue_id}: `;
        s += `bytes=${stat(q.tx_bytes)}pkts=${stat(q.tx_packets)}errors=${stat(q.tx_errors)}duration=`;
        s += ('duration_sec' in q && q.duration_sec !== 0xffffffff ? duration(q.duration_sec, q.duration_nsec) : '?') + '\n';
      }
      return s;
    }
    case 'TABLE': {
      // Like OVS, a run of tables with the same stats and features as the one before prints as one "ditto" line.
      let s = '';
      let first = -1;
      let last = -1;
      const finish = (): void => {
        if (first >= 0) s += first === last ? `\n  table ${first}: ditto\n` : `\n  tables ${first}...${last}: ditto\n`;
        first = -1;
      };
      const entries = rep.body.entries;
      entries.forEach((t, i) => {
        const prev = i ? entries[i - 1] : undefined;
        const sameStats = prev !== undefined && t.active_count === prev.active_count
          && u64(t.lookup_count) === u64(prev.lookup_count) && u64(t.matched_count) === u64(prev.matched_count);
        const sameFeatures = prev !== undefined && (!('max_entries' in t) || ('max_entries' in prev
          && t.max_entries === prev.max_entries && 'wildcards' in prev && t.wildcards === prev.wildcards));
        const name = 'name' in t ? t.name : '';
        if (sameStats && sameFeatures && !name) {
          if (first < 0) first = t.table_id;
          last = t.table_id;
          return;
        }
        finish();
        s += `\n  table ${t.table_id}`;
        if (name) s += ` ("${name}")`;
        s += ':';
        if (sameStats && sameFeatures) {
          s += ' ditto';
          return;
        }
        s += '\n';
        s += `    active=${t.active_count}, lookup=${u64(t.lookup_count)}, matched=${u64(t.matched_count)}\n`;
        if (!('max_entries' in t)) return;
        if (sameFeatures) {
          s += '    (same features)\n';
          return;
        }
        s += `    max_entries=${t.max_entries}\n    matching:\n`;
        s += wildcards10(t.wildcards);
      });
      finish();
      return s;
    }
    case 'GROUP':
      return groupStats(rep.body.entries);
    case 'GROUP_DESC': {
      let s = '';
      for (const g of rep.body.entries) {
        const props = 'properties' in g ? g.properties as readonly { type: number; data?: Uint8Array }[] : [];
        s += '\n ' + group(opts, v, g.group_id, g.type, g.buckets as readonly BucketLike[], false, props);
      }
      return s;
    }
    case 'GROUP_FEATURES':
      return groupFeatures(rep.body, v);
    default:
      return statsReplyRest(rep, v, opts);
  }
}

function removedReason(r: number): string {
  return reasonName(FLOW_REMOVED_REASONS, r);
}

function groupStats(entries: readonly GroupStats[]): string {
  let s = '';
  for (const g of entries) {
        s += `\n group_id=${g.group_id},`;
        if (g.duration_sec !== 0xffffffff) s += `duration=${duration(g.duration_sec, g.duration_nsec)},`;
        s += `ref_count=${g.ref_count},packet_count=${u64(g.packet_count)},byte_count=${u64(g.byte_count)}`;
        g.bucket_stats.forEach((bs, i) => {
          if (BigInt.asUintN(64, bs.packet_count) !== 0xffffffffffffffffn) s += `,bucket${i}:packet_count=${u64(bs.packet_count)},byte_count=${u64(bs.byte_count)}`;
    });
  }
  return s;
}

function groupFeatures(f: GroupFeatures, v: number): string {
  let s = `\n Group table:\n    Types:  ${hex(f.types)}\n    Capabilities:  ${hex(f.capabilities)}\n`;
  const names = ['all', 'select', 'indirect', 'fast failover'];
  const keys = ['all', 'select', 'indirect', 'ff'] as const;
  for (let i = 0; i < 4; i++) {
    if (!(f.types & (1 << i))) continue;
    s += `    ${names[i]} group:\n       max_groups=${hex(f.max_groups[keys[i]])}\n       actions: ${actionBitmap(f.actions[keys[i]], v)}\n`;
  }
  return s;
}

function statsReplyRest(rep: MultipartReply, v: number, opts: PrintOptions): string {
  switch (rep.stat) {
    case 'METER': {
      let s = '';
      for (const ms of rep.body.entries) {
        s += '\n' + meterId(ms.meter_id, ':') + ` flow_count:${ms.flow_count} packet_in_count:${u64(ms.packet_in_count)} byte_in_count:${u64(ms.byte_in_count)} `;
        s += `duration:${duration(ms.duration_sec, ms.duration_nsec)} bands:\n`;
        ms.band_stats.forEach((b, i) => { s += `${i}: packet_count:${u64(b.packet_band_count)} byte_count:${u64(b.byte_band_count)}\n`; });
      }
      return s;
    }
    case 'METER_CONFIG': {
      let s = '';
      for (const mc of rep.body.entries) s += '\n' + meterConfig(mc.flags, mc.meter_id, mc.bands as readonly Band[]);
      return s;
    }
    case 'METER_FEATURES': {
      const f = rep.body;
      let s = `\nmax_meter:${f.max_meter} max_bands:${f.max_bands} max_color:${f.max_color}\n`;
      s += 'band_types: ' + bitNames(f.band_types, (bit) => (bit === 2 ? 'drop' : bit === 4 ? 'dscp_remark' : undefined)) + '\n';
      return s + 'capabilities: ' + bitNames(f.capabilities, bitTable(['kbps', 'pktps', 'burst', 'stats'])) + '\n';
    }
    case 'PORT_DESC':
      return '\n' + formatPhyPorts(rep.body.entries, v);
    case 'TABLE_DESC': {
      let s = '';
      for (const td of rep.body.entries) s += tableDesc(td as TableDescLike);
      return s;
    }
    case 'QUEUE_DESC': {
      const queues = rep.body.entries.map((q) => {
        let min = 0xffff, max = 0xffff;
        for (const p of q.properties) {
          if (p.type === 1 && 'rate' in p) min = Number(p.rate);
          if (p.type === 2 && 'rate' in p) max = Number(p.rate);
        }
        return { port: q.port_no, queue: q.queue_id, min, max };
      });
      queues.sort((a, c) => (port16(a.port, v) - port16(c.port, v)) || (a.queue - c.queue));
      let s = ' ';
      let port = 0;
      for (const q of queues) {
        if (q.port !== port) {
          port = q.port;
          s += `port=${portName(port, v)}\n`;
        }
        s += `queue ${q.queue}:${queueRate('min_rate', q.min)}${queueRate('max_rate', q.max)}\n`;
      }
      return s.replace(/ +$/, '');
    }
    case 'FLOW_MONITOR':
      return rep.body.entries.map((u) => flowUpdate(u, v, opts, removedReason)).join('');
    case 'NX_FLOW_MONITOR':
      return rep.body.entries.map((u) => flowUpdate({ ...u, event: nxEvent(u.event) }, v, opts, removedReason)).join('');
    case 'TABLE_FEATURES':
      return formatTableFeatures(rep.body.entries, v);
    case 'NX_GROUP':
      return groupStats(rep.body.entries);
    case 'NX_GROUP_DESC': {
      let s = '';
      for (const g of rep.body.entries) s += '\n ' + group(opts, v, g.group_id, g.type, g.buckets as readonly BucketLike[], false, g.properties);
      return s;
    }
    case 'NX_GROUP_FEATURES':
      return groupFeatures(rep.body, v);
    case 'NX_IPFIX_BRIDGE':
      return ipfixBridge(rep.body.entries);
    case 'NX_IPFIX_FLOW':
      return ipfixFlow(rep.body.entries);
    default:
      return '';
  }
}

/** The "matching:" lines of an OF1.0 table-stats entry: which fields its wildcards allow. */
function wildcards10(w: number): string {
  // Every OF1.0 field is exact-match-or-wildcard when its wildcard bit is set.
  const fields: [string, number][] = [
    ['in_port', 1], ['eth_{src,dst,type}', 0], ['vlan_{vid,pcp}', 0], ['ip_{src,dst}', 0], ['nw_{proto,tos}', 0], ['tcp_{src,dst}', 0],
  ];
  void fields;
  if ((w & 0x3fffff) === 0x3fffff) return '      exact match or wildcard: in_port eth_{src,dst,type} vlan_{vid,pcp} ip_{src,dst} nw_{proto,tos} tcp_{src,dst}\n';
  return '';
}

export { hex2 } from './util.js';
