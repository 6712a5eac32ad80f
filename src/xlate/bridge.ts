// What the pipeline needs from a switch (OVS's xbridge/xport view of an
// ofproto): tables it can look packets up in, ports it can send on, groups,
// meters, the way to the controllers, and the MAC learning table of NORMAL.
// src/ofproto's Ofproto satisfies it structurally; src/xlate never imports it.

import type { TunnelHeaderSpec, TunnelKind } from '../dpif/index.js';
import type { Match, TextAction } from '../openflow/index.js';
import type { TunMetadataLayout } from '../flow/index.js';
import type { MacLearning } from './mac-learning.js';
import type { XlateMirror } from './mirror.js';
import type { PortVlan } from './vlan.js';

/** A flow entry as the pipeline sees it (OVS's rule_dpif). */
export interface XlateRule {
  readonly tableId: number;
  readonly priority: number;
  readonly cookie: bigint;
  readonly actions: readonly TextAction[];
  /** The rule's match, as replies print it (the trace prints it too). */
  readonly match: Match;
  packets: number;
  bytes: number;
  used: number;
}

/** One OpenFlow table: its classifier and lookup counters. */
export interface XlateTable {
  readonly cls: {
    /** The best rule for a flow key; marks the bits it examined in `wc`. */
    lookup(key: Uint32Array, wc?: Uint32Array): XlateRule | null | undefined;
  };
  lookups: number;
  matches: number;
}

export interface XlateNetdev {
  send(frame: Uint8Array): boolean;
  /** The device's Ethernet address ("xx:xx:..."), where it has one (a bridge's local port: tunnel endpoints check it). */
  getMac?(): string;
}

/** A port of the switch, by its 16-bit OpenFlow number. */
export interface XlatePort {
  readonly ofport: number;
  readonly name: string;
  readonly netdev: XlateNetdev;
  /** OFPPC_* bits (PORT_DOWN 1, NO_RECV 4, NO_FLOOD 16, NO_FWD 32, NO_PACKET_IN 64). */
  readonly config: number;
  isLive(): boolean;
  /** The port's VLAN mode for NORMAL (Port tag, trunks, vlan_mode, ...); absent: a trunk of every VLAN. */
  readonly vlan?: PortVlan | undefined;
  /** A patch port: where its cable ends (the peer's bridge and port), or undefined while the peer does not exist. */
  readonly patchPeer?: (() => { readonly bridge: XlateBridge; readonly ofport: number } | undefined) | undefined;
  /** A tunnel port: how to encapsulate this flow now (route and next hop resolved), or why it cannot yet. */
  readonly tunnel?: ((flow: TunnelFlow) => TunnelEncap | string) | undefined;
  /** The port's number in the datapath (ofproto/trace prints datapath actions with it), when a datapath has the port. */
  odpPort?: number | undefined;
}

export type { TunnelKind };

/** Everything an encapsulation needs, resolved from the port's options and the host's routes: the header's fields, and where it leaves. */
/** The flow's tunnel metadata, for tunnel options set to flow (remote_ip, local_ip, out_key). */
export interface TunnelFlow {
  readonly tunId: number;
  readonly tunSrc: number;
  readonly tunDst: number;
}

export interface TunnelEncap extends TunnelHeaderSpec {
  /** The bridge whose local port owns the route to the remote end: the outer packet leaves through it. */
  readonly underlay: XlateBridge;
  /** The flow fields the encapsulation took (tun_dst, tun_src, tun_id): the megaflow must match them. */
  readonly flowFields?: readonly string[];
  /** Counts what goes out of the tunnel port (one packet unless said). */
  count?(bytes: number, packets?: number): void;
}

/** The switch's tunnel endpoints, as a bridge's translation consults them. */
export interface XlateTunnels {
  /** Whether the switch has any tunnel port (only then does a local delivery consult the endpoints, and the megaflow say so). */
  any(): boolean;
  /** The kind of tunnel IPv4 to ipDst of protocol nwProto (and UDP port udpDst) is for, or null: decapsulate instead of delivering it. */
  isEndpoint(ipDst: number, nwProto: number, udpDst: number): TunnelKind | null;
  /** The tunnel port a received packet belongs to, by its kind, outer addresses, key (VNI) and UDP port. */
  portFor(kind: TunnelKind, ipSrc: number, ipDst: number, key: number, udpDst: number): { readonly bridge: XlateBridge; readonly ofport: number; count?(bytes: number, packets?: number): void } | undefined;
}

export interface XlateBucket {
  readonly bucketId: number;
  readonly actions: readonly TextAction[];
}

export interface XlateGroup {
  readonly id: number;
  readonly type: 'all' | 'select' | 'indirect' | 'ff';
  readonly buckets: readonly XlateBucket[];
}

export interface XlateGroups {
  get(id: number): XlateGroup | undefined;
  /** The bucket a select/ff/indirect group takes for a packet with this hash; null: none live (all: null). */
  selectBucket(group: XlateGroup, hash: number): XlateBucket | null;
  /** Credits traffic; bucket null: every bucket (all groups). */
  account(id: number, bucket: XlateBucket | null, packets: number, bytes: number): void;
}

export interface XlateMeters {
  /** Runs a packet through a meter: null when there is no such meter. */
  apply(id: number, packetBytes: number, now: number): { readonly drop: boolean } | null;
}

/** OFPR_* reasons as the pipeline reports them. */
export type PacketInReason = 'no_match' | 'action' | 'invalid_ttl' | 'action_set' | 'group' | 'packet_out';

/** One packet for the controllers (src/ofproto's PacketInInfo: connmgr makes PACKET_IN / NXT_PACKET_IN2 of it). */
export interface XlatePacketIn {
  reason: PacketInReason;
  /** A no_match from a table-miss flow (priority 0, empty match); absent or false for an implicit miss. */
  explicitMiss?: boolean;
  tableId: number;
  cookie: bigint;
  /** Pipeline metadata: in_port (32-bit), metadata, registers, tunnel id, when non-zero. */
  metadata: Match;
  /** The frame with every change the actions made so far. */
  frame: Uint8Array;
  /** From the controller action, or 0xffff. */
  maxLen: number;
  /** The controller connection id (controller(id=N)); 0 reaches connections with no id set. */
  controllerId: number;
  userdata?: Uint8Array;
}

export interface XlateConnmgr {
  sendPacketIn(info: XlatePacketIn): void;
  /**
   * Whether a table miss with the default miss config asks for a packet-in
   * (an OF1.0-1.2 controller is connected). Absent: the pipeline always hands
   * implicit misses over and the connection manager filters them by version.
   */
  wantsPacketInOnMiss?(): boolean;
}

export interface XlateBridge {
  readonly name: string;
  readonly tables: readonly XlateTable[];
  readonly ports: ReadonlyMap<number, XlatePort>;
  readonly groups: XlateGroups;
  readonly meters: XlateMeters;
  readonly connmgr: XlateConnmgr;
  isFailOpen(): boolean;
  /** NORMAL's MAC learning table; the pipeline keeps one per bridge when the switch has none. */
  readonly macLearning?: MacLearning;
  /** Port mirrors (the Mirror table); absent: those set with setMirrors, if any. */
  readonly mirrors?: readonly XlateMirror[];
  /** The switch's tunnel endpoints (absent: no tunnels). */
  readonly tunnels?: XlateTunnels | undefined;
  /** Moves whenever anything a translation depends on changes (flows, groups, meters, ports): cached translations compare it. */
  readonly tablesVersion?: number;
  /** Set by a datapath that must hear at once when tablesVersion moves (its PMD workers check a shared generation). */
  onTablesChanged?: (() => void) | null;
  /** Adds or replaces a flow on behalf of a learn action (ovs-ofctl add-flow syntax); throws on a bad flow. */
  learnFlow?(flowText: string): void;
  /** The Geneve TLV mapping that places tun_metadata0-63 in the flow key (absent: none mapped). */
  readonly tlvTable?: TunMetadataLayout;
}

/** OFPPC_* bits the pipeline honours. */
export const PORT_CONFIG = { PORT_DOWN: 1, NO_RECV: 4, NO_FLOOD: 16, NO_FWD: 32, NO_PACKET_IN: 64 } as const;

/** OVS's 16-bit reserved port numbers. */
export const OFPP = {
  MAX: 0xff00, IN_PORT: 0xfff8, TABLE: 0xfff9, NORMAL: 0xfffa, FLOOD: 0xfffb, ALL: 0xfffc, CONTROLLER: 0xfffd,
  LOCAL: 0xfffe, NONE: 0xffff,
} as const;
