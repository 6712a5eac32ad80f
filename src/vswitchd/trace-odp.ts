// ofproto/trace given a datapath flow, as dpctl/dump-flows prints one
// ("ofproto/trace [dp_name] odp_flow [-generate|packet]"): OVS's argument
// rules decide between that form and "bridge br_flow"; the datapath port in
// in_port(N) (a number or a port name) names the bridge and its OpenFlow
// port, and the rest of the flow becomes the bridge flow that is traced.

import { flowTextOfOdp, isOdpFlow } from '../flow/index.js';
import { TraceError, parsePacketHex, type DatapathPipeline } from '../xlate/index.js';

/** The datapath types this switch runs: its one userspace datapath. */
const BACKERS = new Set(['netdev']);

/** Trace arguments with the ODP flow rewritten as "bridge br_flow"; null when `args` are already of that form. */
export function odpTraceArgs(
  dp: DatapathPipeline | undefined, bridgeName: (bridge: unknown) => string | undefined, args: readonly string[],
): string[] | null {
  const options: string[] = [];
  const positional: string[] = [];
  for (const a of args) (a.startsWith('-') ? options : positional).push(a);
  const generate = options.includes('-generate') || options.includes('--generate');
  // A trailing hex packet is stripped first, as OVS does (the 1-argument form has none).
  let packet: string | undefined;
  if (!generate && positional.length > 1 && parsePacketHex(positional[positional.length - 1]!)) packet = positional.pop();
  if (positional.length < 1 || positional.length > 2) return null;
  const flow = positional[positional.length - 1]!;
  let backer = false;
  if (positional.length === 2) backer = dp !== undefined && BACKERS.has(positional[0]!.replace(/^ovs-/, ''));
  else backer = dp !== undefined;
  if (!isOdpFlow(flow)) {
    if (positional.length === 1) throw new TraceError(`syntax error at ${flow} (or the bridge name was omitted)`);
    return null;
  }
  let text: string;
  try {
    text = flowTextOfOdp(flow);
  } catch (e) {
    if (positional.length === 1) throw new TraceError(`${e instanceof Error ? e.message : String(e)} (or the bridge name was omitted)`);
    return null;
  }
  if (!backer || !dp) throw new TraceError('Cannot find the datapath');
  const inPort = /(?:^|[\s,])in_port\(\s*([^)\s]+)\s*\)/.exec(flow)?.[1];
  let dpPort = inPort === undefined ? 0 : Number(inPort);
  if (inPort !== undefined && !/^\d+$/.test(inPort)) {
    const named = [...dp.dp.ports.values()].find((p) => p.name === inPort);
    if (!named) throw new TraceError(`${inPort}: unknown port name`);
    dpPort = named.no;
  }
  const port = dp.portOfDp(dpPort);
  const name = port && bridgeName(port.bridge);
  if (!port || name === undefined) throw new TraceError(`no OpenFlow port for datapath port ${dpPort}`);
  return [name, text ? `in_port=${port.ofport},${text}` : `in_port=${port.ofport}`, ...options, ...(packet ? [packet] : [])];
}
