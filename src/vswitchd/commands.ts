// The switch's unixctl commands about bridges and their OpenFlow state
// (ofproto/list, bridge/dump-flows, netdev-dummy/receive, ...), in the
// output formats of ovs-vswitchd.

import { UnixctlError, type UnixctlServer } from '../lib/unixctl.js';
import { DummyNetdev, type NetdevRegistry } from '../netdev/index.js';
import { formatActions, formatWireMatch, parseFlow } from '../openflow/index.js';
import { composePacket, flowTextOfOdp, isOdpFlow } from '../flow/index.js';
import type { Ofproto } from '../ofproto/index.js';
import { registerTunnelCommands } from './tunnel-commands.js';
import { odpTraceArgs } from './trace-odp.js';
import { TraceError, fdbFlush, fdbShow, traceCommand, type DatapathPipeline } from '../xlate/index.js';

export interface CommandContext {
  ofprotos(): Map<string, Ofproto>;
  registry: NetdevRegistry;
  /** The cached datapath, when the switch runs one. */
  datapath?: DatapathPipeline;
}

function bridgeOf(ctx: CommandContext, name: string): Ofproto {
  const of = ctx.ofprotos().get(name);
  if (!of) throw new UnixctlError(`${name}: unknown bridge`);
  return of;
}

/** A frame given as hex digits (spaces allowed), or null when the text is not hex. */
export function hexFrame(text: string): Uint8Array | null {
  const t = text.replace(/\s+/g, '');
  if (!/^([0-9a-fA-F]{2})+$/.test(t)) return null;
  return Uint8Array.from(t.match(/../g)!.map((h) => parseInt(h, 16)));
}

/** A frame from OVS's packet argument: hex bytes, or a flow description to compose one from. */
export function frameFromArgument(text: string): Uint8Array {
  const hex = hexFrame(text);
  if (hex) return hex;
  let match;
  try {
    // A datapath flow as dpctl prints it (in_port(1),eth(...),...) says the same in ODP syntax.
    const flow = isOdpFlow(text) ? flowTextOfOdp(text) : text;
    match = parseFlow(flow.includes('actions') ? flow : `${flow},actions=drop`).match;
  } catch (e) {
    throw new UnixctlError(`${e instanceof Error ? e.message : String(e)}`);
  }
  return composePacket(match);
}

export function registerBridgeCommands(ctl: UnixctlServer, ctx: CommandContext): void {
  ctl.register('ofproto/list', '', 0, 0, () => [...ctx.ofprotos().keys()].sort().map((n) => `${n}\n`).join(''));

  if (ctx.datapath) {
    const dp = ctx.datapath;
    const verbose = (args: string[]) => args.includes('-m') || args.includes('--more');
    // One netdev datapath holds every bridge's flows, as in OVS; dpif/dump-flows shows one bridge's.
    ctl.register('dpctl/dump-flows', '[-m] [--names | --no-names] [dp] [filter=..] [type=..]', 0, 4, (args) => dp.dumpFlows(verbose(args)));
    ctl.register('dpif/dump-flows', '[-m] [--names | --no-names] bridge', 1, 3, (args) => dp.dumpFlows(verbose(args), bridgeOf(ctx, args[args.length - 1]!)));
    ctl.register('dpctl/show', '[-s] [dp...]', 0, 3, (args) => dp.show(args.includes('-s') || args.includes('--statistics')));
    ctl.register('dpif/show', '', 0, 0, () => dp.dpifShow([...ctx.ofprotos()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([name, bridge]) => ({ name, bridge }))));
    ctl.register('dpif-netdev/pmd-stats-show', '[-pmd core] [dp]', 0, 3, () => dp.pmdStats());
    ctl.register('dpif-netdev/pmd-rxq-show', '[-pmd core] [-secs secs] [dp]', 0, 5, () => dp.pmdRxqShow());
    ctl.register('upcall/show', '', 0, 0, () => dp.upcallShow());
    // Both empty the datapath's flow caches; the next packets are upcalled and translated afresh.
    ctl.register('dpctl/del-flows', '[dp]', 0, 1, () => { dp.purge(); });
    ctl.register('revalidator/purge', '', 0, 0, () => { dp.purge(); });
  }

  ctl.register('bridge/dump-flows', '[--offload-stats] bridge', 1, 2, (args) => {
    const of = bridgeOf(ctx, args[args.length - 1]!);
    const now = performance.now();
    let out = '';
    for (const t of of.tables) {
      for (const r of t.sortedRules()) {
        const table = r.tableId ? `table_id=${r.tableId}, ` : '';
        out += `${table}duration=${Math.floor((now - r.created) / 1000)}s, n_packets=${r.packets}, n_bytes=${r.bytes}, `
          + `${formatWireMatch(r.match, r.priority)},actions=${formatActions(r.actions, 'OpenFlow10')}\n`;
      }
    }
    return out;
  });

  ctl.register('ofproto/trace', '{[dp_name] odp_flow | bridge br_flow} [OPTIONS...] [-generate|packet]', 1, Number.MAX_SAFE_INTEGER, (args) => {
    try {
      const bridgeName = (b: unknown): string | undefined => [...ctx.ofprotos()].find(([, of]) => of === b)?.[0];
      return traceCommand((name) => ctx.ofprotos().get(name), odpTraceArgs(ctx.datapath, bridgeName, args) ?? args);
    } catch (e) {
      if (e instanceof TraceError) throw new UnixctlError(e.message);
      throw e;
    }
  });

  ctl.register('fdb/show', 'bridge', 1, 1, (args) => fdbShow(bridgeOf(ctx, args[0]!)));

  ctl.register('fdb/flush', '[bridge]', 0, 1, (args) => {
    const list = args.length ? [bridgeOf(ctx, args[0]!)] : [...ctx.ofprotos().values()];
    for (const of of list) fdbFlush(of);
    return 'table successfully flushed';
  });

  ctl.register('netdev-dummy/receive', 'name [--qid queue_id] packet|flow [--len packet_len]...', 2, Number.MAX_SAFE_INTEGER, (args) => {
    const dev = ctx.registry.byName(args[0]!);
    if (!(dev instanceof DummyNetdev)) throw new UnixctlError(`no such dummy netdev named ${args[0]}`);
    let i = 1;
    if (args[i] === '--qid') i += 2;
    for (; i < args.length; i++) {
      const frame = frameFromArgument(args[i]!);
      if (args[i + 1] === '--len') {
        const n = Number(args[i + 2]);
        if (!Number.isInteger(n) || n < frame.length) throw new UnixctlError(`bad packet length ${args[i + 2]}`);
        const padded = new Uint8Array(n);
        padded.set(frame);
        dev.receive(padded);
        i += 2;
      } else {
        dev.receive(frame);
      }
    }
    return '';
  });

  const dp = ctx.datapath;
  registerTunnelCommands(ctl, { registry: ctx.registry, ...(dp ? { datapathPorts: () => dp.dp.ports.values(), tunnelConfigChanged: () => dp.purge() } : {}) });
}
