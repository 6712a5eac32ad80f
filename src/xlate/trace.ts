// `ovs-appctl ofproto/trace BRIDGE FLOW [-generate | PACKET]`: translates a
// flow (or a packet) through a bridge without sending anything and prints
// what happened in OVS's format. Side effects (MAC learning, learn actions)
// happen only when a packet is given, as in OVS.

import { formatMatch, matchToSlots, parseFlow, type Match } from '../openflow/index.js';
import type { XlateBridge } from './bridge.js';
import {
  composePacket, extractFlow, formatFlow, getNum, keyMaskToMatch, keyOfMatch, matchToKeyMask, newKey, port16,
} from './key.js';
import { macTableOf } from './mac-learning.js';
import { formatTrace } from './trace-tree.js';
import { translate } from './xlate.js';

export class TraceError extends Error {
  override readonly name = 'TraceError';
}

/** Port names in the flow text become numbers (in_port=p1 → in_port=1), as OVS's port map does. */
function resolvePortNames(bridge: XlateBridge, text: string): string {
  return text.replace(/(^|,)(in_port)=([^,]+)/g, (all, sep: string, key: string, name: string) => {
    for (const p of bridge.ports.values()) if (p.name === name) return `${sep}${key}=${p.ofport}`;
    return all;
  });
}

function parseTraceFlow(bridge: XlateBridge, text: string): Match {
  try {
    return parseFlow(resolvePortNames(bridge, text), 'delete').match;
  } catch (e) {
    throw new TraceError(`Bad openflow flow syntax: ${(e as Error).message}`);
  }
}

/** Hex digits (spaces and dots allowed between bytes) into a frame of at least 14 bytes. */
export function parsePacketHex(s: string): Uint8Array | null {
  const h = s.replace(/[\s.]/g, '');
  if (!/^([0-9a-f]{2})+$/i.test(h) || h.length < 28) return null;
  return Uint8Array.from(h.match(/../g)!.map((b) => parseInt(b, 16)));
}

export interface TraceOptions {
  /** Build a packet from the flow (--generate), or use this one; either turns side effects on. */
  packet?: Uint8Array | 'generate';
}

/**
 * The trace text of a flow through `bridge`: `flow` in ovs-ofctl syntax (with
 * `opts.packet` for a real or generated packet), or a frame alone (its flow
 * then comes from its headers, with in_port 0).
 */
export function trace(bridge: XlateBridge, flow: string | Uint8Array, opts: TraceOptions = {}): string {
  if (flow instanceof Uint8Array) return trace(bridge, '', { packet: flow });
  const match = parseTraceFlow(bridge, flow);
  let key = keyOfMatch(match, bridge.tlvTable);
  const inPort32 = getNum(key, 'in_port');
  let packet: Uint8Array | null = null;
  // A generated packet only enables side effects: the flow stays as given (OVS traces the flow, not the packet).
  if (opts.packet === 'generate') packet = composePacket(match);
  else if (opts.packet) packet = opts.packet;
  if (packet && opts.packet !== 'generate') {
    const fromPacket = newKey();
    extractFlow(packet, packet.length, inPort32, fromPacket);
    // Metadata given in the flow text stays (in_port, registers, metadata, tunnel).
    const meta = matchToKeyMask(Object.fromEntries(Object.entries(match).filter(([n]) => /^(in_port|metadata|tun_id|pkt_mark|x*reg\d+)$/.test(n))));
    for (let i = 0; i < fromPacket.length; i++) fromPacket[i] = (fromPacket[i]! & ~meta.mask[i]!) | (meta.value[i]! & meta.mask[i]!);
    key = fromPacket;
  }
  const res = translate({
    bridge, mac: macTableOf(bridge), flow: key, inPort: port16(inPort32), trace: true, sideEffects: packet !== null,
    credit: null, packet,
  });
  let out = `Flow: ${formatFlow(key)}\n`;
  out += formatTrace(res.trace);
  out += '\nFinal flow: ';
  out += sameKey(key, res.flow) ? 'unchanged' : formatFlow(res.flow);
  out += '\n';
  const mega = formatMatch(matchToSlots(keyMaskToMatch(res.base, res.wc, bridge.tlvTable)));
  out += `Megaflow: recirc_id=0,eth${mega ? `,${mega}` : ''}\n`;
  out += `Datapath actions: ${res.odp.length ? res.odp.join(',') : 'drop'}\n`;
  if (res.error) out += `Translation failed (${res.error}), packet is dropped.\n`;
  return out;
}

function sameKey(a: Uint32Array, b: Uint32Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * The unixctl command's argument handling: `[options] BRIDGE FLOW [PACKET]`
 * with -generate/--generate; errors carry OVS's messages.
 */
export function traceCommand(findBridge: (name: string) => XlateBridge | undefined, argv: readonly string[]): string {
  const args: string[] = [];
  let generate = false;
  for (const a of argv) {
    if (a === '-generate' || a === '--generate') generate = true;
    else if (a.startsWith('-')) throw new TraceError(`${a}: unknown option`);
    else if (args.length >= 3) throw new TraceError('too many arguments');
    else args.push(a);
  }
  let packet: Uint8Array | undefined;
  if (!generate && args.length > 1) {
    const p = parsePacketHex(args[args.length - 1]!);
    if (p) {
      packet = p;
      args.pop();
    } else if (args.length > 2) {
      throw new TraceError('Trailing garbage in packet data');
    }
  }
  if (args.length !== 2) throw new TraceError('Must specify bridge name');
  const bridge = findBridge(args[0]!);
  if (!bridge) throw new TraceError(`${args[0]}: unknown bridge`);
  return trace(bridge, args[1]!, generate ? { packet: 'generate' } : packet ? { packet } : {});
}

