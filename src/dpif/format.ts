// The datapath's unixctl texts in OVS's formats (checked against
// ovs-vswitchd 3.1 with datapath_type=netdev): dpctl/dump-flows,
// dpif/dump-flows, dpctl/show, dpif/show, dpif-netdev/pmd-stats-show and
// upcall/show. Pure functions of a datapath's state; the owner wires them
// to unixctl commands.

import { formatActions } from './actions.js';
import type { DpFlow, DpifNetdev } from './dpif-netdev.js';

/** What a flow dump prints of a flow (a worker's flows reach the main thread as such values). */
export type DumpableFlow = Pick<DpFlow, 'key' | 'mask' | 'fullKey' | 'actions' | 'packets' | 'bytes' | 'used' | 'tcpFlags'>;

/** A datapath as dpctl/show, dpif/show and upcall/show see it: its own counters, or a sum over its threads. */
export type DatapathView = Pick<DpifNetdev, 'name' | 'stats' | 'flowCount' | 'ports' | 'flowLimit' | 'revalidation'>;
import { formatOdpKey, ufidOf, type PortNames, type TunnelPorts } from './odp-key.js';

const TCP_FLAG_CHARS: readonly (readonly [number, string])[] = [
  [0x002, 'S'], [0x001, 'F'], [0x008, 'P'], [0x004, 'R'], [0x020, 'U'], [0x010, '.'], [0x040, 'E'], [0x080, 'C'],
  [0x100, 'N'], [0x200, '[200]'], [0x400, '[400]'], [0x800, '[800]'],
];

/** `packets:1, bytes:64, used:0.052s, flags:S.` as dpif_flow_stats_format prints it. */
export function formatFlowStats(f: Pick<DumpableFlow, 'packets' | 'bytes' | 'used' | 'tcpFlags'>, now: number): string {
  let s = `packets:${f.packets}, bytes:${f.bytes}, used:${f.used ? `${(Math.max(0, now - f.used) / 1000).toFixed(3)}s` : 'never'}`;
  if (f.tcpFlags) {
    s += ', flags:';
    for (const [bit, c] of TCP_FLAG_CHARS) if (f.tcpFlags & bit) s += c;
  }
  return s;
}

export interface DumpFlowsOptions {
  /** -m: ufids, every attribute with its mask, port names, `dp:ovs`. */
  verbose?: boolean;
  /** Port names by datapath number (used with verbose, as OVS does). */
  names?: PortNames;
  /** The tunnel datapath ports' kinds. */
  tunnels?: TunnelPorts;
  now: number;
}

/** One line of a flow dump (no newline). */
export function formatDumpFlow(f: DumpableFlow, opts: DumpFlowsOptions): string {
  const v = opts.verbose ?? false;
  const names = v ? opts.names : undefined;
  let s = v ? `ufid:${ufidOf(f.key, f.mask)}, ` : '';
  // The key printed is the upcalled packet's own (OVS keeps the unmasked flow): wildcarded bits show as value/0 with -m.
  s += `${formatOdpKey(f.fullKey, f.mask, v, names, opts.tunnels)}, ${formatFlowStats(f, opts.now)}`;
  if (v) s += ', dp:ovs';
  return `${s}, actions:${formatActions(f.actions, names)}`;
}

/**
 * `ovs-appctl dpctl/dump-flows [-m]`: each thread's flows under its heading
 * (`coreId` null is the main thread); as in OVS, a thread without flows
 * prints nothing, not even its heading.
 */
export function formatDpctlDumpFlows(threads: ReadonlyArray<{ coreId: number | null; flows: Iterable<DumpableFlow> }>, opts: DumpFlowsOptions): string {
  let out = '';
  for (const { coreId, flows } of threads) {
    let heading = coreId === null ? 'flow-dump from the main thread:\n' : `flow-dump from pmd on cpu core: ${coreId}\n`;
    for (const f of flows) {
      out += `${heading}${formatDumpFlow(f, opts)}\n`;
      heading = '';
    }
  }
  return out;
}

/** `ovs-appctl dpif/dump-flows BRIDGE`: the same lines without a heading. */
export function formatDpifDumpFlows(flows: Iterable<DumpableFlow>, opts: DumpFlowsOptions): string {
  let out = '';
  for (const f of flows) out += `${formatDumpFlow(f, opts)}\n`;
  return out;
}

/** `ovs-appctl dpctl/show [-s]`. */
export function formatDpctlShow(dp: DatapathView, withStats = false, type = 'netdev'): string {
  const s = dp.stats;
  let out = `${type}@${dp.name}:\n`;
  out += `  lookups: hit:${s.emcHits + s.megaflowHits} missed:${s.missSuccess + s.missFailed} lost:${s.lost}\n`;
  out += `  flows: ${dp.flowCount}\n`;
  for (const p of [...dp.ports.values()].sort((a, b) => a.no - b.no)) {
    out += `  port ${p.no}: ${p.name} (${p.type})\n`;
    if (withStats) {
      const st = p.stats;
      // Counters tsw's ports do not keep print as "?", as OVS prints counters a netdev lacks.
      out += `    RX packets:${st.rxPackets} errors:? dropped:? overruns:? frame:?\n`;
      out += `    TX packets:${st.txPackets} errors:? dropped:${st.txDropped} aborted:? carrier:?\n`;
      out += '    collisions:?\n';
      out += `    RX bytes:${st.rxBytes}  TX bytes:${st.txBytes}\n`;
    }
  }
  return out;
}

/** A bridge's port as dpif/show lists it. */
export interface DpifShowPort {
  readonly name: string;
  readonly ofport: number;
  readonly dpPort: number;
  readonly type: string;
  /** Extra text after the type, e.g. `remote_ip=10.0.0.2` for a tunnel. */
  readonly config?: string;
}

/** `ovs-appctl dpif/show`: per datapath its hit/miss counts, then each bridge's ports (ofport/datapath port). */
export function formatDpifShow(dps: readonly { dp: DatapathView; type?: string; bridges: readonly { name: string; ports: readonly DpifShowPort[] }[] }[]): string {
  let out = '';
  for (const { dp, type, bridges } of dps) {
    const s = dp.stats;
    out += `${type ?? 'netdev'}@${dp.name}: hit:${s.emcHits + s.megaflowHits} missed:${s.missSuccess + s.missFailed}\n`;
    for (const br of [...bridges].sort((a, b) => a.name.localeCompare(b.name))) {
      out += `  ${br.name}:\n`;
      for (const p of [...br.ports].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
        out += `    ${p.name} ${p.ofport}/${p.dpPort}: (${p.type}${p.config ? `: ${p.config}` : ''})\n`;
      }
    }
  }
  return out;
}

const ratio = (a: number, b: number): string => (b ? a / b : 0).toFixed(2);

/**
 * `ovs-appctl dpif-netdev/pmd-stats-show` for the thread that runs the
 * datapath. `title` is `main thread` (no cycle lines, as OVS prints it) or
 * a PMD heading such as `pmd thread numa_id 0 core_id 1`, which adds the
 * cycle lines: tsw counts nanoseconds busy in processBatch where OVS counts
 * TSC cycles, and `idleNs` is what the owner measured waiting for packets.
 * smc, phwol, mfex and simple-match hits are 0: tsw has no such caches.
 */
export function formatPmdStats(dp: Pick<DpifNetdev, 'stats'>, title = 'main thread', idleNs = 0): string {
  const s = dp.stats;
  const lines = [
    `${title}:`,
    `  packets received: ${s.packets}`,
    `  packet recirculations: ${s.recirculations}`,
    `  avg. datapath passes per packet: ${ratio(s.packets + s.recirculations, s.packets)}`,
    '  phwol hits: 0',
    '  mfex opt hits: 0',
    '  simple match hits: 0',
    `  emc hits: ${s.emcHits}`,
    '  smc hits: 0',
    `  megaflow hits: ${s.megaflowHits}`,
    `  avg. subtable lookups per megaflow hit: ${ratio(s.subtableLookups, s.megaflowHits)}`,
    `  miss with success upcall: ${s.missSuccess}`,
    `  miss with failed upcall: ${s.missFailed}`,
    `  avg. packets per output batch: ${ratio(s.outputPackets, s.outputBatches)}`,
  ];
  if (title !== 'main thread') {
    const busy = s.busyNs;
    const total = busy + idleNs;
    const pct = (x: number): string => (total ? (100 * x) / total : 0).toFixed(2);
    lines.push(`  idle cycles: ${idleNs} (${pct(idleNs)}%)`, `  processing cycles: ${busy} (${pct(busy)}%)`);
    if (s.packets) {
      lines.push(`  avg cycles per packet: ${ratio(total, s.packets)} (${total}/${s.packets})`);
      lines.push(`  avg processing cycles per packet: ${ratio(busy, s.packets)} (${busy}/${s.packets})`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/** `ovs-appctl upcall/show`: flow counts against the limit, the last revalidation's duration, one revalidator. */
export function formatUpcallShow(dp: DatapathView, type = 'netdev', revalidatorId = 1): string {
  const n = dp.flowCount;
  return `${type}@${dp.name}:\n`
    + `  flows         : (current ${n}) (avg ${n}) (max ${n}) (limit ${dp.flowLimit})\n`
    + `  dump duration : ${Math.round(dp.revalidation.lastMs)}ms\n`
    + '  ufid enabled : true\n'
    + '\n'
    + `  ${revalidatorId}: (keys ${n})\n`;
}
