// The flow formatter tsw-ofctl prints with (the text layer's), and the text
// of one flow statistics entry as dump-flows prints it outside of ofp-print
// (--no-stats, --sort, --names): ofputil_flow_stats_format.

import {
  actionsFromWire, formatWireActions, formatWireMatch, instructionsFromWire, type Action, type FlowStats, type Instruction,
  type Match, type NxFlowStats,
} from '../../openflow/index.js';
import { duration, textFormatter, type FlowFormatter } from '../../openflow/print/index.js';

export const flowFormatter: FlowFormatter = textFormatter;

/** One flow entry of any version's reply, in version-free terms. */
export interface FlowEntry {
  cookie: bigint;
  duration_sec: number;
  duration_nsec: number;
  table_id: number;
  priority: number;
  idle_timeout: number;
  hard_timeout: number;
  flags: number;
  importance: number;
  idle_age: number;
  hard_age: number;
  packet_count: bigint;
  byte_count: bigint;
  match: Match;
  /** The actions as text (ofpacts_format). */
  actions: string;
}

const NO_STAT = 0xffffffffffffffffn;

/** A flow stats entry (OF1.0, NXST_FLOW, OF1.3/1.4, OF1.5 flow desc) as a FlowEntry. */
export function flowEntry(e: FlowStats | NxFlowStats, version: number): FlowEntry {
  let sec: number, nsec: number, pkts: bigint, bytes: bigint, idleAge = -1, hardAge = -1;
  if ('stats' in e) {
    const d = e.stats.duration ?? 0n;
    sec = Number(d >> 32n);
    nsec = Number(d & 0xffffffffn);
    pkts = e.stats.packet_count ?? NO_STAT;
    bytes = e.stats.byte_count ?? NO_STAT;
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
  const withLists = e as { actions?: readonly Action[]; instructions?: readonly Instruction[] };
  const list = withLists.instructions ? instructionsFromWire(withLists.instructions, version) : actionsFromWire(withLists.actions ?? [], version);
  return {
    cookie: e.cookie, duration_sec: sec, duration_nsec: nsec, table_id: e.table_id, priority: e.priority,
    idle_timeout: e.idle_timeout, hard_timeout: e.hard_timeout, flags: 'flags' in e ? e.flags : 0,
    importance: 'importance' in e ? e.importance : 0, idle_age: idleAge, hard_age: hardAge, packet_count: pkts, byte_count: bytes,
    match: e.match, actions: formatWireActions(list, version),
  };
}

function flowFlags(flags: number): string {
  let s = '';
  if (flags & 1) s += 'send_flow_rem ';
  if (flags & 2) s += 'check_overlap ';
  if (flags & 4) s += 'reset_counts ';
  if (flags & 8) s += 'no_packet_counts ';
  if (flags & 16) s += 'no_byte_counts ';
  return s;
}

function stat(name: string, n: bigint): string {
  return `${name}=${n === NO_STAT ? '?' : n.toString()}, `;
}

/** ofputil_flow_stats_format: with `stats` false the counters, duration and ages are left out. */
export function formatFlowEntry(fs: FlowEntry, stats: boolean): string {
  let s = '';
  if (stats || fs.cookie) s += `cookie=0x${fs.cookie.toString(16)}, `;
  if (stats) s += `duration=${duration(fs.duration_sec, fs.duration_nsec)}, `;
  if (stats || fs.table_id) s += `table=${fs.table_id}, `;
  if (stats) s += stat('n_packets', fs.packet_count) + stat('n_bytes', fs.byte_count);
  if (fs.idle_timeout) s += `idle_timeout=${fs.idle_timeout}, `;
  if (fs.hard_timeout) s += `hard_timeout=${fs.hard_timeout}, `;
  if (fs.flags) s += flowFlags(fs.flags);
  if (fs.importance) s += `importance=${fs.importance}, `;
  if (stats && fs.idle_age >= 0) s += `idle_age=${fs.idle_age}, `;
  if (stats && fs.hard_age >= 0 && fs.hard_age !== fs.duration_sec) s += `hard_age=${fs.hard_age}, `;
  const m = formatWireMatch(fs.match, fs.priority);
  if (m) s += m + ' ';
  return s + 'actions=' + fs.actions;
}
