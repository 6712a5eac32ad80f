// ofp_port in its three shapes: OF1.0 (48 bytes, 16-bit port numbers),
// OF1.3 (64 bytes), and OF1.4/1.5 (variable, with properties).

import { length16, mac, pad, str, struct, tlvList, u16, u32, type Codec, type RawTlv, type StructValue } from './wire.js';

export const OFP_MAX_PORT_NAME_LEN = 16;

/** Reserved port numbers (OF1.1+ 32-bit space; OF1.0 uses the low 16 bits of 0xfff8..0xffff). */
export const OFPP = {
  MAX: 0xffffff00,
  UNSET: 0xfffffff7,
  IN_PORT: 0xfffffff8,
  TABLE: 0xfffffff9,
  NORMAL: 0xfffffffa,
  FLOOD: 0xfffffffb,
  ALL: 0xfffffffc,
  CONTROLLER: 0xfffffffd,
  LOCAL: 0xfffffffe,
  ANY: 0xffffffff,
} as const;

/** OF1.0 16-bit port number to the OF1.1+ 32-bit space (reserved ports move up). */
export function port10To11(p: number): number {
  return p >= 0xff00 ? p + 0xffff0000 : p;
}

/** OF1.1+ port number to OF1.0, or undefined when OF1.0 cannot express it. */
export function port11To10(p: number): number | undefined {
  if (p < 0xff00) return p;
  if (p >= 0xffffff00) return p - 0xffff0000;
  return undefined;
}

const phyPort10Fields = {
  port_no: u16,
  hw_addr: mac,
  name: str(OFP_MAX_PORT_NAME_LEN),
  config: u32,
  state: u32,
  curr: u32,
  advertised: u32,
  supported: u32,
  peer: u32,
};
/** ofp_phy_port (OF1.0), 48 bytes. */
export const port10 = struct(phyPort10Fields, { what: 'ofp_phy_port' });
export type Port10 = StructValue<typeof phyPort10Fields>;

const port13Fields = {
  port_no: u32,
  _pad: pad(4),
  hw_addr: mac,
  _pad2: pad(2),
  name: str(OFP_MAX_PORT_NAME_LEN),
  config: u32,
  state: u32,
  curr: u32,
  advertised: u32,
  supported: u32,
  peer: u32,
  curr_speed: u32,
  max_speed: u32,
};
/** ofp_port (OF1.1-1.3), 64 bytes. */
export const port13 = struct(port13Fields, { what: 'ofp_port' });
export type Port13 = StructValue<typeof port13Fields>;

const ethernetPropFields = {
  _pad: pad(4),
  curr: u32,
  advertised: u32,
  supported: u32,
  peer: u32,
  curr_speed: u32,
  max_speed: u32,
};
const opticalPropFields = {
  _pad: pad(4),
  supported: u32,
  tx_min_freq_lmda: u32,
  tx_max_freq_lmda: u32,
  tx_grid_freq_lmda: u32,
  rx_min_freq_lmda: u32,
  rx_max_freq_lmda: u32,
  rx_grid_freq_lmda: u32,
  tx_pwr_min: u16,
  tx_pwr_max: u16,
};

export const OFPPDPT_ETHERNET = 0;
export const OFPPDPT_OPTICAL = 1;

export type PortProp =
  | ({ readonly type: typeof OFPPDPT_ETHERNET } & StructValue<typeof ethernetPropFields>)
  | ({ readonly type: typeof OFPPDPT_OPTICAL } & StructValue<typeof opticalPropFields>)
  /** Experimenter (0xffff) and unknown properties keep their payload. */
  | (RawTlv & { readonly raw: true });

const portProps = tlvList<PortProp>(
  new Map<number, Codec<PortProp>>([
    [OFPPDPT_ETHERNET, struct(ethernetPropFields, { lenError: 'OFPBPC_BAD_LEN' }) as Codec<PortProp>],
    [OFPPDPT_OPTICAL, struct(opticalPropFields, { lenError: 'OFPBPC_BAD_LEN' }) as Codec<PortProp>],
  ]),
  {
    align: 8,
    lenError: 'OFPBPC_BAD_LEN',
    what: 'port property',
    raw: (t) => ({ ...t, raw: true }),
    unraw: (v) => ('raw' in v ? v : undefined),
  },
);

const port14Fields = {
  port_no: u32,
  length: length16,
  _pad: pad(2),
  hw_addr: mac,
  _pad2: pad(2),
  name: str(OFP_MAX_PORT_NAME_LEN),
  config: u32,
  state: u32,
  properties: portProps,
};
/** ofp_port (OF1.4/1.5): 40 bytes plus properties, self-sized. */
export const port14 = struct(port14Fields, { what: 'ofp_port' });
export type Port14 = StructValue<typeof port14Fields>;

export type Port = Port10 | Port13 | Port14;

/** The ofp_port codec for a protocol version. */
export function portCodec(version: number): Codec<Port> {
  return (version === 1 ? port10 : version <= 4 ? port13 : port14) as Codec<Port>;
}
