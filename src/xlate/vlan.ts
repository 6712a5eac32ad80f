// The five VLAN modes of a bridge port as NORMAL sees them (OVS's xbundle
// vlan_mode, vlan, trunks, cvlans, qinq_ethtype, use_priority_tags): which
// VLANs a frame may arrive in, which VLAN it belongs to inside the bridge,
// which ports carry that VLAN, and which tags it leaves with.

import type { XlateContext } from './context.js';
import { VLAN_CFI, getNum } from './key.js';

export type VlanMode = 'access' | 'trunk' | 'native-tagged' | 'native-untagged' | 'dot1q-tunnel';
export type PriorityTags = 'never' | 'if-nonzero' | 'always';

export const TPID_8021Q = 0x8100;
export const TPID_8021AD = 0x88a8;
const PCP_MASK = 0xe000;

/** A port's VLAN configuration after OVS's normalization (bridge.c port_configure, ofproto-dpif bundle_set). */
export interface PortVlan {
  readonly mode: VlanMode;
  /** The access VLAN, the native VLAN, or the outer (service) VLAN of dot1q-tunnel; -1 on a trunk. */
  readonly tag: number;
  /** VLANs trunked, as a 4096-entry bitmap (1 = trunked); null: every VLAN. */
  readonly trunks: Uint8Array | null;
  /** Customer VLANs a dot1q-tunnel port admits; null: every VLAN. */
  readonly cvlans: Uint8Array | null;
  /** TPID of the outer tag a dot1q-tunnel port pushes (other_config:qinq-ethtype). */
  readonly qinqEthtype: number;
  readonly priorityTags: PriorityTags;
}

/** What a port with no VLAN settings is: a trunk of every VLAN. */
export const TRUNK_ALL: PortVlan = { mode: 'trunk', tag: -1, trunks: null, cvlans: null, qinqEthtype: TPID_8021AD, priorityTags: 'never' };

/** The Port columns (and other_config keys) that make a PortVlan. */
export interface PortVlanConfig {
  readonly tag?: number | null;
  readonly trunks?: readonly number[];
  readonly cvlans?: readonly number[];
  /** Port.vlan_mode; empty or absent: access when a tag is set, else trunk. */
  readonly vlanMode?: string;
  /** other_config:qinq-ethtype ("802.1q" or "802.1ad", the default). */
  readonly qinqEthtype?: string;
  /** other_config:priority-tags ("never", "if-nonzero" or "true", "always"). */
  readonly priorityTags?: string;
}

const MODES: ReadonlySet<string> = new Set(['access', 'trunk', 'native-tagged', 'native-untagged', 'dot1q-tunnel']);

function bitmap(list: readonly number[] | undefined): Uint8Array | null {
  if (!list?.length) return null;
  const b = new Uint8Array(4096);
  for (const v of list) if (Number.isInteger(v) && v >= 0 && v < 4096) b[v] = 1;
  return b;
}

/**
 * The effective VLAN settings of a port, with the warnings OVS logs about
 * the configuration (an unknown mode, trunks ignored for an implicit access port).
 */
export function resolvePortVlan(name: string, cfg: PortVlanConfig): { vlan: PortVlan; warnings: string[] } {
  const warnings: string[] = [];
  const tagged = cfg.tag !== undefined && cfg.tag !== null && cfg.tag >= 0 && cfg.tag <= 4095 ? cfg.tag : -1;
  let mode: VlanMode;
  if (cfg.vlanMode) {
    if (MODES.has(cfg.vlanMode)) {
      mode = cfg.vlanMode as VlanMode;
    } else {
      warnings.push(`port ${name}: unknown VLAN mode ${cfg.vlanMode}, falling back to trunk mode`);
      mode = 'trunk';
    }
  } else if (tagged >= 0) {
    mode = 'access';
    if (cfg.trunks?.length || cfg.cvlans?.length) warnings.push(`port ${name}: ignoring trunks in favor of implicit vlan`);
  } else {
    mode = 'trunk';
  }
  // A trunk has no VLAN of its own; the other modes without a tag use VLAN 0.
  const tag = mode === 'trunk' ? -1 : tagged >= 0 ? tagged : 0;
  let trunks: Uint8Array | null = null;
  let cvlans: Uint8Array | null = null;
  if (mode === 'trunk') {
    trunks = bitmap(cfg.trunks);
  } else if (mode === 'native-tagged' || mode === 'native-untagged') {
    trunks = bitmap(cfg.trunks);
    if (tag !== 0 && (!trunks || !trunks[tag] || trunks[0])) {
      // The native VLAN is always trunked, VLAN 0 never.
      if (!trunks) trunks = new Uint8Array(4096).fill(1);
      trunks[tag] = 1;
      trunks[0] = 0;
    }
  } else if (mode === 'dot1q-tunnel') {
    cvlans = bitmap(cfg.cvlans);
  }
  const qinqEthtype = cfg.qinqEthtype === '802.1q' ? TPID_8021Q : TPID_8021AD;
  const pt = cfg.priorityTags ?? '';
  const priorityTags: PriorityTags = pt === 'if-nonzero' || pt === 'true' ? 'if-nonzero' : pt === 'always' ? 'always' : 'never';
  return { vlan: { mode, tag, trunks, cvlans, qinqEthtype, priorityTags }, warnings };
}

// ---------------------------------------------------------------- a frame's tags

/** One 802.1Q header: TPID, VLAN ID, priority bits (in their TCI position). All zero: no header. */
export interface VlanHdr { tpid: number; vid: number; pcp: number }
/** The outer two headers of a frame (OVS's struct xvlan), outermost first. */
export type Xvlan = [VlanHdr, VlanHdr];

const none = (): VlanHdr => ({ tpid: 0, vid: 0, pcp: 0 });
export const cloneXvlan = (x: Xvlan): Xvlan => [{ ...x[0] }, { ...x[1] }];

/** A header as it sits on the wire (TCI with the CFI bit marking presence). */
export interface WireTag { readonly tpid: number; readonly tci: number }

/** The tags of the flow as translated so far, outermost first (pushed outer tags, then the key's own tag). */
export function flowTags(ctx: XlateContext): WireTag[] {
  const tci = getNum(ctx.key, 'vlan_tci');
  return tci & VLAN_CFI ? [...ctx.outerVlans, { tpid: ctx.tpid, tci }] : [...ctx.outerVlans];
}

/** The flow's VLAN headers (xvlan_extract). */
export function extractXvlan(ctx: XlateContext): Xvlan {
  const tags = flowTags(ctx);
  const x: Xvlan = [none(), none()];
  for (let i = 0; i < 2 && i < tags.length; i++) {
    const t = tags[i]!;
    x[i] = { tpid: t.tpid, vid: t.tci & 0xfff, pcp: t.tci & PCP_MASK };
  }
  return x;
}

/** The tags a frame with headers `x` carries out of a port (xvlan_put): absent headers dropped. */
export function xvlanToTags(x: Xvlan, priorityTags: PriorityTags): WireTag[] {
  const out: WireTag[] = [];
  for (const h of x) {
    const tci = h.vid | (h.pcp & PCP_MASK);
    if (tci || (priorityTags === 'always' && h.tpid)) out.push({ tpid: h.tpid || TPID_8021Q, tci: tci | VLAN_CFI });
  }
  return out;
}

// ---------------------------------------------------------------- membership

export function trunksVlan(v: PortVlan, vid: number): boolean {
  return v.mode !== 'access' && (!v.trunks || v.trunks[vid] === 1);
}

function allowsCvlan(v: PortVlan, vid: number): boolean {
  return !v.cvlans || v.cvlans[vid] === 1;
}

/** Whether a port carries the frame's VLAN(s) (xbundle_includes_vlan). */
export function includesVlan(v: PortVlan, x: Xvlan): boolean {
  switch (v.mode) {
    case 'access': return x[0].vid === v.tag && x[1].vid === 0;
    case 'dot1q-tunnel': return x[0].vid === v.tag && allowsCvlan(v, x[1].vid);
    default: return trunksVlan(v, x[0].vid);
  }
}

/**
 * Whether a frame whose outer VLAN ID is `vid` (0: untagged) may enter on a
 * port (input_vid_is_valid); reports why not in the trace. `none`: a
 * controller's packet with no input port, which any VID may use.
 */
export function inputVidIsValid(ctx: XlateContext, vid: number, v: PortVlan | 'none', name: string): boolean {
  if (v === 'none') return true;
  switch (v.mode) {
    case 'access':
      if (vid) {
        ctx.report('error', `dropping VLAN ${vid} tagged packet received on port ${name} configured as VLAN ${v.tag} access port`);
        return false;
      }
      return true;
    case 'native-tagged': case 'native-untagged': case 'trunk':
      if (v.mode !== 'trunk' && !vid) return true;
      if (!trunksVlan(v, vid)) {
        ctx.report('error', `dropping VLAN ${vid} packet received on port ${name} not configured for trunking VLAN ${vid}`);
        return false;
      }
      return true;
    case 'dot1q-tunnel':
      if (!allowsCvlan(v, vid)) {
        ctx.report('error', `dropping VLAN ${vid} packet received on dot1q-tunnel port ${name} that excludes this VLAN`);
        return false;
      }
      return true;
  }
}

/** The frame's VLANs inside the bridge, from the headers it arrived with (xvlan_input_translate). */
export function inputTranslate(v: PortVlan | 'none', x: Xvlan): Xvlan {
  if (v === 'none') return cloneXvlan(x);
  switch (v.mode) {
    case 'access':
      return [{ tpid: x[0].tpid || TPID_8021Q, vid: v.tag, pcp: x[0].pcp }, none()];
    case 'trunk':
      return cloneXvlan(x);
    case 'native-tagged': case 'native-untagged': {
      const out = cloneXvlan(x);
      if (!x[0].vid) out[0] = { tpid: x[0].tpid || TPID_8021Q, vid: v.tag, pcp: x[0].pcp };
      return out;
    }
    case 'dot1q-tunnel':
      return [{ tpid: v.qinqEthtype, vid: v.tag, pcp: 0 }, { ...x[0] }];
  }
}

/** The headers a frame in VLANs `x` leaves a port with (xvlan_output_translate). */
export function outputTranslate(v: PortVlan, x: Xvlan): Xvlan {
  switch (v.mode) {
    case 'access': return [none(), none()];
    case 'trunk': case 'native-tagged': return cloneXvlan(x);
    case 'native-untagged': return x[0].vid === v.tag ? [{ ...x[1] }, none()] : cloneXvlan(x);
    case 'dot1q-tunnel': return [{ ...x[1] }, none()];
  }
}
