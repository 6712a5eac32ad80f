// Port descriptions (features reply, port status, port-desc reply) and port mods.

import { bitNames, bitTable, port16, portName, printablePrefix } from './util.js';
import type { Port } from '../index.js';

const FEATURE_NAMES = [
  '10MB-HD', '10MB-FD', '100MB-HD', '100MB-FD', '1GB-HD', '1GB-FD', '10GB-FD', '40GB-FD', '100GB-FD', '1TB-FD', 'OTHER',
  'COPPER', 'FIBER', 'AUTO_NEG', 'AUTO_PAUSE', 'AUTO_PAUSE_ASYM',
];
const CONFIG_NAMES = ['PORT_DOWN', 'NO_STP', 'NO_RECV', 'NO_RECV_STP', 'NO_FLOOD', 'NO_FWD', 'NO_PACKET_IN'];
const STATE_NAMES = ['LINK_DOWN', 'BLOCKED', 'LIVE'];

/** OVS's internal feature bits from an OF1.0 bitmap (the medium bits sit 4 higher than in OF1.1+). */
export function features10(f: number): number {
  return (f & 0x7f) | ((f & 0xf80) << 4);
}

export function features11(f: number): number {
  return f & 0xffff;
}

export function formatFeatures(f: number): string {
  return bitNames(f, bitTable(FEATURE_NAMES));
}

export function formatPortConfig(c: number): string {
  return bitNames(c, bitTable(CONFIG_NAMES));
}

function formatPortState(state: number): string {
  const stp = state & 0x300;
  if (stp) {
    const s = stp === 0x100 ? 'STP_LEARN' : stp === 0x200 ? 'STP_FORWARD' : 'STP_BLOCK';
    const rest = state & ~0x300;
    return rest ? s + bitNames(rest, bitTable(STATE_NAMES)) : s;
  }
  return bitNames(state, bitTable(STATE_NAMES));
}

function bps(f: number): number {
  if (f & (1 << 9)) return 1_000_000_000;
  if (f & (1 << 8)) return 100_000_000;
  if (f & (1 << 7)) return 40_000_000;
  if (f & (1 << 6)) return 10_000_000;
  if (f & 0x30) return 1_000_000;
  if (f & 0xc) return 100_000;
  if (f & 0x3) return 10_000;
  return 0;
}

/** A port in OVS's version-neutral form. */
export interface PhyPort {
  port_no: number;
  name: string;
  hw_addr: string;
  config: number;
  state: number;
  curr: number;
  advertised: number;
  supported: number;
  peer: number;
  curr_speed: number;
  max_speed: number;
}

export function phyPort(p: Port, version: number): PhyPort {
  if (version === 1 && 'curr' in p && !('curr_speed' in p)) {
    const curr = features10(p.curr);
    const supported = features10(p.supported);
    return {
      port_no: p.port_no, name: p.name, hw_addr: p.hw_addr, config: p.config & 0x7f, state: p.state & 0x301,
      curr, advertised: features10(p.advertised), supported, peer: features10(p.peer), curr_speed: bps(curr), max_speed: bps(supported),
    };
  }
  const base = { port_no: port16(p.port_no, version), name: p.name, hw_addr: p.hw_addr, config: p.config & 0x65, state: p.state & 7 };
  if ('curr_speed' in p) {
    return {
      ...base, curr: features11(p.curr), advertised: features11(p.advertised), supported: features11(p.supported), peer: features11(p.peer),
      curr_speed: p.curr_speed, max_speed: p.max_speed,
    };
  }
  const eth = 'properties' in p ? p.properties.find((q) => q.type === 0 && !('raw' in q)) : undefined;
  if (eth && 'curr_speed' in eth) {
    return {
      ...base, curr: features11(eth.curr), advertised: features11(eth.advertised), supported: features11(eth.supported), peer: features11(eth.peer),
      curr_speed: eth.curr_speed, max_speed: eth.max_speed,
    };
  }
  return { ...base, curr: 0, advertised: 0, supported: 0, peer: 0, curr_speed: 0, max_speed: 0 };
}

/** " 1(eth0): addr:..." and its config/state/features/speed lines. */
export function formatPhyPort(p: PhyPort): string {
  let s = ` ${portName(p.port_no, 1)}(${printablePrefix(p.name)}): addr:${p.hw_addr}\n`;
  s += `     config:     ${formatPortConfig(p.config)}\n`;
  s += `     state:      ${formatPortState(p.state)}\n`;
  if (p.curr) s += `     current:    ${formatFeatures(p.curr)}\n`;
  if (p.advertised) s += `     advertised: ${formatFeatures(p.advertised)}\n`;
  if (p.supported) s += `     supported:  ${formatFeatures(p.supported)}\n`;
  if (p.peer) s += `     peer:       ${formatFeatures(p.peer)}\n`;
  s += `     speed: ${Math.floor(p.curr_speed / 1000)} Mbps now, ${Math.floor(p.max_speed / 1000)} Mbps max\n`;
  return s;
}

/** Ports sorted by (16-bit) number, as OVS lists them. */
export function formatPhyPorts(ports: readonly Port[], version: number): string {
  const list = ports.map((p) => phyPort(p, version));
  list.sort((a, b) => (a.port_no & 0xffff) - (b.port_no & 0xffff));
  return list.map(formatPhyPort).join('');
}
