// The group table of one switch (OVS's ofgroup collection in ofproto.c with
// the group side of ofproto-dpif): GROUP_MOD with OVS 3.1's checks and error
// codes, bucket liveness and selection for the pipeline, group statistics,
// descriptions and features. A modified group is a new Group object (as in
// OVS, which swaps in a rebuilt group): readers holding the old one see a
// consistent group, and its statistics start again from zero.

import {
  OfError, actionsFromWire, actionsToWire, groupFromWire, groupModMessage, port11To10,
  type Bucket11, type Bucket15, type GroupDesc, type GroupFeatures, type GroupMod11, type GroupMod15, type GroupProps,
  type GroupStats, type MessageOf, type RawProp, type TextAction, type TextBucket, type TextGroupMod,
} from '../openflow/index.js';

export type GroupType = 'all' | 'select' | 'indirect' | 'ff';
const TYPE_NAMES: readonly GroupType[] = ['all', 'select', 'indirect', 'ff'];
const OFPGT_SELECT = 1;
const OFPGT_INDIRECT = 2;
const OFPGT_FF = 3;

/** OFPGC_* commands, with OVS's ADD_OR_MOD extension. */
const GC = { ADD: 0, MODIFY: 1, DELETE: 2, INSERT_BUCKET: 3, REMOVE_BUCKET: 5, ADD_OR_MOD: 0x8000 } as const;
export const OFPG_MAX = 0xffffff00;
export const OFPG_ALL = 0xfffffffc;
export const OFPG_ANY = 0xffffffff;
/** OF1.5 bucket ids: the largest real one and the special "first", "last", "all". */
const BUCKET_MAX = 0xffffff00;
const BUCKET_FIRST = 0xfffffffd;
const BUCKET_LAST = 0xfffffffe;
const BUCKET_ALL = 0xffffffff;
/** Watch ports in the switch's 16-bit port space. */
const OFPP_ANY = 0xffff;
const OFPP_CONTROLLER = 0xfffd;
/** NTR (Netronome) selection-method group property, and the vendor id OVS 2.4 wrongly used. */
const NTR_VENDOR_ID = 0x0000154d;
const NTR_COMPAT_VENDOR_ID = 0x00001540;
const NTRT_SELECTION_METHOD = 1;
const NTR_PROP_LEN = 40;
/** How deep watch_group chains are followed before a bucket counts as dead (OVS's limit). */
const MAX_LIVENESS_RECURSION = 128;
/** The most hash values a dp_hash select group spreads over its buckets. */
const MAX_HASH_VALUES = 256;

/** OFPGFC_SELECT_WEIGHT | OFPGFC_SELECT_LIVENESS | OFPGFC_CHAINING, as OVS reports. */
const GROUP_CAPABILITIES = 0x7;
/**
 * Actions OVS announces for every group type in OF1.3-1.5: OFPAT_OUTPUT and
 * OFPAT_SET_MPLS_TTL through OFPAT_SET_FIELD (bits 0 and 15-25), observed from
 * ovs-vswitchd 3.1.
 */
const GROUP_ACTIONS = 0x03ff8001;

export interface Bucket {
  /** OF1.5 bucket id; in OF1.1-1.4 the bucket's position when added. */
  readonly bucketId: number;
  readonly weight: number;
  /** In the switch's 16-bit port space; 0xffff (OFPP_ANY) when not watched. */
  readonly watchPort: number;
  readonly watchGroup: number;
  readonly actions: readonly TextAction[];
  /** Counters are numbers, as the rules' are (exact up to 2^53). */
  packets: number;
  bytes: number;
}

export interface Group {
  readonly id: number;
  readonly type: GroupType;
  readonly buckets: readonly Bucket[];
  /** The OF1.5 NTR selection method property ('' when none), its parameter and hashed fields. */
  readonly props: GroupProps;
  /** How a select group picks: the dp_hash table, or highest-random-weight over the caller's hash. */
  readonly selection: 'dp_hash' | 'hash' | 'default';
  /** dp_hash: the table from masked hash values to buckets (Webster's method over the weights). */
  readonly hashMask: number;
  readonly hashMap: readonly Bucket[];
  readonly created: number;
  readonly modified: number;
  packets: number;
  bytes: number;
  /** Flows whose actions name this group (the core counts them with ruleRefs). */
  refCount: number;
}

export interface GroupTableOptions {
  /** Whether a port (16-bit number) may forward: fast-failover and select liveness. */
  isPortLive(port: number): boolean;
  /** Whether a controller is connected (buckets watching OFPP_CONTROLLER). */
  isControllerLive?(): boolean;
  /** Groups allowed per type (OVS: OFPG_MAX each). */
  maxGroups?: number;
  /** Called after groups are deleted; the core deletes the flows that use them, as OpenFlow requires. */
  onDeleted?(ids: number[]): void;
  /** Clock in milliseconds (default performance.now). */
  now?(): number;
}

type WireBucket = Bucket11 | Bucket15;
type GroupModBody = GroupMod11 | GroupMod15;

/** A group mod after the checks OVS makes while decoding (ofputil_decode_group_mod). */
interface CheckedMod {
  command: number;
  type: number;
  groupId: number;
  commandBucketId: number;
  buckets: Bucket[];
  props: GroupProps;
}

export class GroupTable {
  private readonly groups = new Map<number, Group>();
  private readonly perType = [0, 0, 0, 0];
  private readonly maxGroups: number;
  private readonly now: () => number;

  constructor(private readonly opts: GroupTableOptions) {
    this.maxGroups = opts.maxGroups ?? OFPG_MAX;
    this.now = opts.now ?? (() => performance.now());
  }

  get size(): number {
    return this.groups.size;
  }

  get(id: number): Group | undefined {
    return this.groups.get(id);
  }

  /** Every group in id order. */
  all(): Group[] {
    return [...this.groups.values()].sort((a, b) => a.id - b.id);
  }

  // ------------------------------------------------------------ GROUP_MOD

  /** Executes an OFPT_GROUP_MOD; throws OfError with the error OVS 3.1 sends for each failure. */
  handleGroupMod(msg: MessageOf<'GROUP_MOD'>): void {
    this.apply(checkWireMod(msg.body as GroupModBody, msg.version));
  }

  private apply(m: CheckedMod): void {
    switch (m.command) {
      case GC.ADD: this.add(m); return;
      case GC.MODIFY: case GC.INSERT_BUCKET: case GC.REMOVE_BUCKET: this.modify(m); return;
      case GC.ADD_OR_MOD:
        if (this.groups.has(m.groupId)) this.modify(m);
        else this.add(m);
        return;
      case GC.DELETE: this.delete(m.groupId); return;
      default: throw new OfError('OFPGMFC_BAD_COMMAND', `group command ${m.command}`);
    }
  }

  private add(m: CheckedMod): void {
    if (this.groups.has(m.groupId)) throw new OfError('OFPGMFC_GROUP_EXISTS', `group ${m.groupId} exists`);
    if (this.perType[m.type]! >= this.maxGroups) throw new OfError('OFPGMFC_OUT_OF_GROUPS', `${this.perType[m.type]} ${TYPE_NAMES[m.type]} groups`);
    if (m.groupId > OFPG_MAX) throw new OfError('OFPGMFC_INVALID_GROUP', `group id ${m.groupId} is reserved`);
    const now = this.now();
    this.groups.set(m.groupId, makeGroup(m.groupId, m.type, m.buckets, m.props, now, now, 0));
    this.perType[m.type]!++;
  }

  private modify(m: CheckedMod): void {
    const old = this.groups.get(m.groupId);
    if (!old) throw new OfError('OFPGMFC_UNKNOWN_GROUP', `no group ${m.groupId}`);
    let { type, props, buckets } = m;
    const oldType = TYPE_NAMES.indexOf(old.type);
    // Adding or removing buckets keeps the group's type and properties.
    if (m.command === GC.INSERT_BUCKET || m.command === GC.REMOVE_BUCKET) {
      type = oldType;
      props = old.props;
    }
    if (type !== oldType && this.perType[type]! >= this.maxGroups) {
      throw new OfError('OFPGMFC_OUT_OF_GROUPS', `${this.perType[type]} ${TYPE_NAMES[type]} groups`);
    }
    // The buckets kept by a bucket command keep their counters (OVS copies them); the group's restart.
    const kept = (): Bucket[] => old.buckets.map((b) => ({ ...b }));
    if (m.command === GC.INSERT_BUCKET) buckets = insertBuckets(kept(), buckets, m.commandBucketId);
    else if (m.command === GC.REMOVE_BUCKET) buckets = removeBucket(kept(), m.commandBucketId);
    this.groups.set(m.groupId, makeGroup(m.groupId, type, buckets, props, old.created, this.now(), old.refCount));
    this.perType[oldType]!--;
    this.perType[type]!++;
  }

  private delete(id: number): void {
    const ids = id === OFPG_ALL ? [...this.groups.keys()] : this.groups.has(id) ? [id] : [];
    if (!ids.length) return;
    for (const gid of ids) {
      const g = this.groups.get(gid)!;
      this.perType[TYPE_NAMES.indexOf(g.type)]!--;
      this.groups.delete(gid);
    }
    this.opts.onDeleted?.(ids);
  }

  /** Deletes every group (the bridge is going away or its flows are flushed). */
  removeAll(): void {
    this.delete(OFPG_ALL);
  }

  /** A copy of the table's contents, for putting it back after a failed bundle. */
  snapshot(): ReadonlyMap<number, Group> {
    return new Map(this.groups);
  }

  restore(snap: ReadonlyMap<number, Group>): void {
    this.groups.clear();
    this.perType.fill(0);
    for (const [id, g] of snap) {
      this.groups.set(id, g);
      this.perType[TYPE_NAMES.indexOf(g.type)]!++;
    }
  }

  /** Counts a flow's references to groups: +1 when the flow is added, -1 when it goes (OVS counts each group action). */
  ruleRefs(actions: readonly TextAction[], delta: 1 | -1): void {
    forEachGroupAction(actions, (id) => {
      const g = this.groups.get(id);
      if (g) g.refCount = Math.max(0, g.refCount + delta);
    });
  }

  // ------------------------------------------------------------ the pipeline's side

  /** Whether a bucket may be used (ofproto-dpif-xlate's bucket_is_alive). */
  bucketIsLive(group: Group, bucket: Bucket, depth = 0): boolean {
    if (depth >= MAX_LIVENESS_RECURSION) return false;
    // Select groups never use a bucket of weight 0; in other types weight means nothing.
    if (group.type === 'select' && bucket.weight === 0) return false;
    const { watchPort: p, watchGroup: g } = bucket;
    if (p === OFPP_ANY && g === OFPG_ANY) return true;
    if (p !== OFPP_ANY && p !== OFPP_CONTROLLER && this.opts.isPortLive(p)) return true;
    if (g !== OFPG_ANY && this.groupIsLive(g, depth + 1)) return true;
    return p === OFPP_CONTROLLER && (this.opts.isControllerLive?.() ?? false);
  }

  /** A watched group is live when it exists and has a live bucket. */
  private groupIsLive(id: number, depth: number): boolean {
    const g = this.groups.get(id);
    return g !== undefined && this.firstLive(g, depth) !== null;
  }

  private firstLive(group: Group, depth: number): Bucket | null {
    for (const b of group.buckets) if (this.bucketIsLive(group, b, depth)) return b;
    return null;
  }

  /** The buckets a packet would use now: all of them for 'all' and 'indirect', the live ones otherwise. */
  liveBuckets(group: Group): Bucket[] {
    if (group.type === 'all' || group.type === 'indirect') return [...group.buckets];
    return group.buckets.filter((b) => this.bucketIsLive(group, b));
  }

  /**
   * The bucket a packet takes. `hash` is the packet's hash: its dp_hash for a
   * dp_hash select group, else the flow hash (OVS: symmetric L4 hash, or the
   * hash of the selection fields) that seeds highest-random-weight. Fast
   * failover: the first live bucket. Indirect: its bucket. All: null (every
   * bucket applies; see liveBuckets).
   */
  selectBucket(group: Group, hash: number): Bucket | null {
    switch (group.type) {
      case 'all': return null;
      case 'indirect': return group.buckets[0] ?? null;
      case 'ff': return this.firstLive(group, 0);
      case 'select': {
        if (group.selection === 'dp_hash') {
          // Walk the table from the packet's slot, so weights still hold when a bucket is down.
          for (let i = 0; i <= group.hashMask; i++) {
            const b = group.hashMap[((hash >>> 0) + i) & group.hashMask]!;
            if (this.bucketIsLive(group, b)) return b;
          }
          return null;
        }
        let best: Bucket | null = null;
        let bestScore = 0;
        for (const b of group.buckets) {
          if (!this.bucketIsLive(group, b)) continue;
          const score = (hashInt(b.bucketId, hash >>> 0) & 0xffff) * b.weight;
          if (score >= bestScore) {
            best = b;
            bestScore = score;
          }
        }
        return best;
      }
    }
  }

  /** Credits a group with traffic; `bucket` null credits every bucket (all groups), as OVS does. */
  account(id: number, bucket: Bucket | null, packets: number, bytes: number): void {
    const g = this.groups.get(id);
    if (!g) return;
    const p = packets;
    const n = bytes;
    g.packets += p;
    g.bytes += n;
    for (const b of bucket ? [bucket] : g.buckets) {
      b.packets += p;
      b.bytes += n;
    }
  }

  // ------------------------------------------------------------ statistics

  private select(id: number): Group[] {
    if (id === OFPG_ALL) return this.all();
    const g = this.groups.get(id);
    return g ? [g] : [];
  }

  /** OFPMP_GROUP entries for a request's group id (OFPG_ALL: every group; an unknown id: none). */
  statsReply(req: { id: number }, version: number): GroupStats[] {
    void version;
    const now = this.now();
    return this.select(req.id).map((g) => {
      const ms = Math.max(0, now - g.created);
      const sec = Math.floor(ms / 1000);
      return {
        group_id: g.id, ref_count: g.refCount, packet_count: BigInt(g.packets), byte_count: BigInt(g.bytes),
        duration_sec: sec, duration_nsec: Math.floor((ms - sec * 1000) * 1e6),
        bucket_stats: g.buckets.map((b) => ({ packet_count: BigInt(b.packets), byte_count: BigInt(b.bytes) })),
      };
    });
  }

  /** OpenFlow 1.0's Nicira group mod: the OF1.5 layout with OF1.0 actions. */
  handleNxGroupMod(msg: MessageOf<'NXT_GROUP_MOD'>): void {
    this.apply(checkWireMod(msg.body as unknown as GroupModBody, 1, true));
  }

  /** NXST_GROUP_DESC entries (OF1.0): OF1.5 buckets carrying OF1.0 actions. */
  nxDescReply(id: number): unknown[] {
    return this.select(id).map((g) => {
      const body = groupModMessage(toText(g), 6).body as GroupMod15;
      const buckets = body.buckets.map((b, i) => ({ ...b, actions: actionsToWire(g.buckets[i]!.actions, 'OpenFlow10') }));
      return { type: TYPE_NAMES.indexOf(g.type), group_id: g.id, buckets, properties: body.properties };
    });
  }

  /** OFPMP_GROUP_DESC entries (OF1.1-1.4 ask for every group; OF1.5 names one or OFPG_ALL). */
  descReply(req: { id?: number } | Record<string, never>, version: number): GroupDesc[] {
    const id = 'id' in req && typeof req.id === 'number' ? req.id : OFPG_ALL;
    return this.select(id).map((g) => {
      const body = groupModMessage(toText(g), version).body as GroupModBody;
      if (version >= 6) return { type: TYPE_NAMES.indexOf(g.type), group_id: g.id, buckets: body.buckets, properties: (body as GroupMod15).properties } as GroupDesc;
      return { type: TYPE_NAMES.indexOf(g.type), group_id: g.id, buckets: body.buckets } as GroupDesc;
    });
  }

  /** OFPMP_GROUP_FEATURES as OVS 3.1 answers in OF1.3-1.5. */
  featuresReply(version: number): GroupFeatures {
    void version;
    const m = this.maxGroups;
    return {
      types: 0xf, capabilities: GROUP_CAPABILITIES,
      max_groups: { all: m, select: m, indirect: m, ff: m },
      actions: { all: GROUP_ACTIONS, select: GROUP_ACTIONS, indirect: GROUP_ACTIONS, ff: GROUP_ACTIONS },
    };
  }
}

// ---------------------------------------------------------------- decoding checks

/** A watch port from OF1.1+ numbering; reserved numbers OVS cannot map are BAD_WATCH. */
function watchPort(p: number): number {
  const q = port11To10(p);
  if (q === undefined) throw new OfError('OFPGMFC_BAD_WATCH', `watch_port ${p}`);
  return q;
}

/** An unknown property: OVS answers BAD_TYPE, or for experimenter properties BAD_EXP_TYPE. */
function unknownProp(p: RawProp, what: string): never {
  if (p.type !== 0xffff) throw new OfError('OFPBPC_BAD_TYPE', `${what} property type ${p.type}`);
  if (p.data.length < 8) throw new OfError('OFPBPC_BAD_LEN', `${what} experimenter property of ${p.data.length + 4} bytes`);
  const dv = new DataView(p.data.buffer, p.data.byteOffset, p.data.byteLength);
  if (dv.getUint32(0) === 0) throw new OfError('OFPBPC_BAD_EXPERIMENTER', `${what} property with experimenter 0`);
  throw new OfError('OFPBPC_BAD_EXP_TYPE', `${what} property experimenter 0x${dv.getUint32(0).toString(16)} type ${dv.getUint32(4)}`);
}

function bucketFromWire(b: WireBucket, index: number, type: number, version: number): Bucket {
  const actions = actionsFromWire(b.actions, version);
  if (!('properties' in b)) {
    return { bucketId: index, weight: b.weight, watchPort: watchPort(b.watch_port), watchGroup: b.watch_group, actions, packets: 0, bytes: 0 };
  }
  let weight = type === OFPGT_SELECT ? 1 : 0;
  let port = 0xffffffff;
  let group = OFPG_ANY;
  for (const p of b.properties) {
    if ('raw' in p) unknownProp(p, 'group bucket');
    else if ('weight' in p) weight = p.weight;
    else if ('watch_port' in p) port = p.watch_port;
    else if ('watch_group' in p) group = p.watch_group;
  }
  const watch = watchPort(port);
  if (b.bucket_id > BUCKET_MAX) throw new OfError('OFPGMFC_BAD_BUCKET', `bucket id ${b.bucket_id} is out of range`);
  return { bucketId: b.bucket_id, weight, watchPort: watch, watchGroup: group, actions, packets: 0, bytes: 0 };
}

/** The OF1.5 group properties: only the NTR selection method, for select groups being added or modified. */
function groupProps(props: readonly RawProp[], type: number, command: number): GroupProps {
  let out: GroupProps = { selection_method: '', selection_method_param: 0n, fields: [] };
  for (const p of props) {
    const dv = new DataView(p.data.buffer, p.data.byteOffset, p.data.byteLength);
    const vendor = p.type === 0xffff && p.data.length >= 8 ? dv.getUint32(0) : -1;
    if ((vendor !== NTR_VENDOR_ID && vendor !== NTR_COMPAT_VENDOR_ID) || dv.getUint32(4) !== NTRT_SELECTION_METHOD) unknownProp(p, 'group');
    if (type > OFPGT_FF) throw new OfError('OFPGMFC_BAD_TYPE', `group type ${type}`);
    if (type !== OFPGT_SELECT) throw new OfError('OFPBPC_BAD_VALUE', 'a selection method is only for select groups');
    if (command === GC.DELETE || command === GC.INSERT_BUCKET || command === GC.REMOVE_BUCKET) {
      throw new OfError('OFPBPC_BAD_VALUE', 'a selection method is only for adding or modifying a group');
    }
    if (command !== GC.ADD && command !== GC.MODIFY && command !== GC.ADD_OR_MOD) throw new OfError('OFPGMFC_BAD_COMMAND', `group command ${command}`);
    if (p.data.length + 4 < NTR_PROP_LEN) throw new OfError('OFPBPC_BAD_LEN', `selection method property of ${p.data.length + 4} bytes`);
    const name = p.data.subarray(12, 28);
    const end = name.indexOf(0);
    if (end < 0) throw new OfError('OFPBPC_BAD_VALUE', 'selection method is not NUL-terminated');
    const method = new TextDecoder().decode(name.subarray(0, end));
    if (method !== 'hash' && method !== 'dp_hash') throw new OfError('OFPBPC_BAD_VALUE', `selection method "${method}" is not supported`);
    if (p.data.length + 4 > NTR_PROP_LEN && method !== 'hash') throw new OfError('OFPBPC_BAD_VALUE', `selection method ${method} takes no fields`);
    // The codec's text layer reads the fields (OXM headers with masks); it knows only the NTR vendor id.
    const data = new Uint8Array(p.data);
    new DataView(data.buffer).setUint32(0, NTR_VENDOR_ID);
    out = groupFromWire({ type, group_id: 0, buckets: [], properties: [{ type: 0xffff, data, raw: true }] }, 6).props;
  }
  return out;
}

/** OVS's checks while decoding a group mod, in its order (ofputil_pull_ofp11/15_group_mod, ofputil_check_group_mod). */
function checkWireMod(body: GroupModBody, version: number, layout15 = version >= 6): CheckedMod {
  const { command, type, group_id: groupId } = body;
  let commandBucketId = BUCKET_ALL;
  let buckets: Bucket[];
  let props: GroupProps = { selection_method: '', selection_method_param: 0n, fields: [] };
  if (layout15) {
    const b = body as GroupMod15;
    commandBucketId = b.command_bucket_id;
    const special = commandBucketId === BUCKET_FIRST || commandBucketId === BUCKET_LAST;
    const ok = command === GC.REMOVE_BUCKET ? commandBucketId <= BUCKET_MAX || special || commandBucketId === BUCKET_ALL
      : command === GC.INSERT_BUCKET ? commandBucketId <= BUCKET_MAX || special
        : commandBucketId === BUCKET_ALL;
    if (!ok) throw new OfError('OFPGMFC_BAD_BUCKET', `command bucket id ${commandBucketId} is out of range`);
    buckets = b.buckets.map((x, i) => bucketFromWire(x, i, type, version));
    const ids = new Set(buckets.map((x) => x.bucketId));
    if (ids.size !== buckets.length) throw new OfError('OFPGMFC_BAD_BUCKET', 'duplicate bucket id');
    props = groupProps(b.properties, type, command);
  } else {
    buckets = body.buckets.map((x, i) => bucketFromWire(x, i, type, version));
    // OF1.3.5 and later: a delete carries no buckets.
    if (version >= 4 && command === GC.DELETE && buckets.length) throw new OfError('OFPGMFC_INVALID_GROUP', 'a group delete has buckets');
  }

  if (type > OFPGT_FF) throw new OfError('OFPGMFC_BAD_TYPE', `group type ${type}`);
  if (type === OFPGT_INDIRECT && command !== GC.DELETE && buckets.length !== 1) {
    throw new OfError('OFPGMFC_INVALID_GROUP', `an indirect group has one bucket, not ${buckets.length}`);
  }
  if (!(Object.values(GC) as number[]).includes(command)) throw new OfError('OFPGMFC_BAD_COMMAND', `group command ${command}`);
  if (command === GC.REMOVE_BUCKET && buckets.length) throw new OfError('OFPGMFC_BAD_BUCKET', 'remove_bucket carries buckets');
  for (const b of buckets) {
    if (b.weight && type !== OFPGT_SELECT && command !== GC.INSERT_BUCKET) {
      throw new OfError('OFPGMFC_INVALID_GROUP', `weight ${b.weight} in a ${TYPE_NAMES[type]} group`);
    }
    const watched = b.watchPort !== OFPP_ANY || b.watchGroup !== OFPG_ANY;
    if (type === OFPGT_FF && !watched) throw new OfError('OFPGMFC_INVALID_GROUP', 'a fast failover bucket needs watch_port or watch_group');
    if ((type === 0 || type === OFPGT_INDIRECT) && watched) throw new OfError('OFPGMFC_WATCH_UNSUPPORTED', `${TYPE_NAMES[type]} groups do not watch`);
  }
  return { command, type, groupId, commandBucketId, buckets, props };
}

// ---------------------------------------------------------------- bucket commands (OF1.5)

/** insert_bucket: the new buckets go first, last, or after the bucket with the given id. */
function insertBuckets(old: Bucket[], added: Bucket[], at: number): Bucket[] {
  if (at <= BUCKET_MAX && !old.some((b) => b.bucketId === at)) throw new OfError('OFPGMFC_UNKNOWN_BUCKET', `no bucket ${at}`);
  const ids = new Set<number>();
  for (const b of [...added, ...old]) {
    if (ids.has(b.bucketId)) throw new OfError('OFPGMFC_BUCKET_EXISTS', `bucket ${b.bucketId} exists`);
    ids.add(b.bucketId);
  }
  if (at === BUCKET_LAST) return [...old, ...added];
  if (at <= BUCKET_MAX && added.length) {
    const i = old.findIndex((b) => b.bucketId === at);
    return [...old.slice(0, i + 1), ...added, ...old.slice(i + 1)];
  }
  return [...added, ...old];
}

/** remove_bucket: the first, the last, all, or the bucket with the given id. */
function removeBucket(old: Bucket[], which: number): Bucket[] {
  if (which === BUCKET_ALL) return [];
  if (which === BUCKET_FIRST) return old.slice(1);
  if (which === BUCKET_LAST) return old.slice(0, -1);
  const i = old.findIndex((b) => b.bucketId === which);
  if (i < 0) throw new OfError('OFPGMFC_UNKNOWN_BUCKET', `no bucket ${which}`);
  return [...old.slice(0, i), ...old.slice(i + 1)];
}

// ---------------------------------------------------------------- building groups

function makeGroup(id: number, type: number, buckets: Bucket[], props: GroupProps, created: number, modified: number, refCount: number): Group {
  let selection: Group['selection'] = 'default';
  let hashMask = 0;
  let hashMap: Bucket[] = [];
  if (type === OFPGT_SELECT) {
    const method = props.selection_method;
    if (method === 'hash') selection = 'hash';
    else {
      // No method: dp_hash when 256 hash values can express the weights; "dp_hash": whenever it can.
      const table = dpHashTable(buckets, MAX_HASH_VALUES);
      if (table) {
        selection = 'dp_hash';
        hashMask = table.length - 1;
        hashMap = table;
      }
    }
  }
  return {
    id, type: TYPE_NAMES[type]!, buckets, props, selection, hashMask, hashMap,
    created, modified, packets: 0, bytes: 0, refCount,
  };
}

/**
 * Spreads 16..256 hash values over the buckets in proportion to their
 * weights with Webster's (Sainte-Laguë) method, as OVS does for dp_hash
 * select groups. Null when no bucket has weight or more than `max` values
 * would be needed to give the lightest bucket one.
 */
export function dpHashTable(buckets: readonly Bucket[], max: number): Bucket[] | null {
  let total = 0;
  let min = 0xffff;
  for (const b of buckets) {
    if (b.weight > 0 && b.weight < min) min = b.weight;
    total += b.weight;
  }
  if (!buckets.length || total === 0) return null;
  const slots = Math.ceil(total / min);
  const n = Math.max(16, 2 ** Math.ceil(Math.log2(slots)));
  if (n > max) return null;
  const value = buckets.map((b) => b.weight);
  const divisor = buckets.map(() => 1);
  const out: Bucket[] = [];
  for (let h = 0; h < n; h++) {
    let w = 0;
    for (let i = 1; i < buckets.length; i++) if (value[i]! > value[w]!) w = i;
    divisor[w]! += 2;
    value[w] = buckets[w]!.weight / divisor[w]!;
    out.push(buckets[w]!);
  }
  return out;
}

function toText(g: Group): TextGroupMod {
  const buckets: TextBucket[] = g.buckets.map((b) => ({
    bucket_id: b.bucketId, weight: b.weight, watch_port: b.watchPort, watch_group: b.watchGroup, actions: b.actions,
  }));
  return { command: 'add', group_id: g.id, type: TYPE_NAMES.indexOf(g.type), buckets, command_bucket_id: BUCKET_ALL, props: g.props };
}

function forEachGroupAction(list: readonly TextAction[], fn: (id: number) => void): void {
  for (const a of list) {
    if (a.type === 'group') fn(a.group);
    else if (a.type === 'write_actions' || a.type === 'clone') forEachGroupAction(a.actions, fn);
    else if (a.type === 'ct') forEachGroupAction(a.exec, fn);
  }
}

// ---------------------------------------------------------------- OVS's hash (lib/hash.h, portable variant)

function rot(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

function mhashAdd(hash: number, data: number): number {
  if (data) {
    let d = Math.imul(data, 0xcc9e2d51);
    d = rot(d, 15);
    d = Math.imul(d, 0x1b873593);
    hash = (hash ^ d) >>> 0;
  }
  hash = rot(hash, 13);
  return (Math.imul(hash, 5) + 0xe6546b64) >>> 0;
}

function mhashFinish(hash: number): number {
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return hash >>> 0;
}

/** OVS's hash_int(x, basis): hash_2words(x, basis). */
export function hashInt(x: number, basis: number): number {
  return mhashFinish(mhashAdd(mhashAdd(x >>> 0, 0), basis >>> 0) ^ 8);
}
