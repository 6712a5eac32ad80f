// Flow mods and flow-statistics requests in one version-free form (OVS's
// ofputil_flow_mod / ofputil_flow_stats_request), decoded from every wire
// shape that carries them: OF1.0 FLOW_MOD, Nicira NXT_FLOW_MOD, OF1.1+ FLOW_MOD,
// OF1.0 flow stats, NXST_FLOW and OF1.1+ multipart flow requests.

import {
  OfError, OFPP16 as OFPP, nxmCookie, checkConsistency, checkSetDestinations, instructionsFromWire, actionsFromWire, validateMatch,
  type Match, type MessageOf, type TextAction, type FlowStatsRequest, type NxFlowStatsRequest,
} from '../openflow/index.js';

export type FlowModCommand = 'add' | 'modify' | 'modify_strict' | 'delete' | 'delete_strict';

/** OFPTT_ALL: every table (modify/delete/stats). */
export const TABLE_ALL = 0xff;
/** Tables a controller can use: 0..253 (OVS keeps 254 for itself). */
export const N_TABLES = 254;
/** OFP_NO_BUFFER. */
export const NO_BUFFER = 0xffffffff;
/** OFPG_ANY. */
export const GROUP_ANY = 0xffffffff;
/** "Leave the cookie alone" (OVS's new_cookie of all ones). */
export const COOKIE_KEEP = 0xffffffffffffffffn;

/** OFPFF_* bits as the switch keeps them (the OF1.3 numbering). */
export const FF = { SEND_FLOW_REM: 1, CHECK_OVERLAP: 2, RESET_COUNTS: 4, NO_PKT_COUNTS: 8, NO_BYT_COUNTS: 16 } as const;

export interface OfFlowMod {
  readonly command: FlowModCommand;
  /** Canonical (NXM-named) match. */
  readonly match: Match;
  readonly priority: number;
  /** 0..253, or TABLE_ALL. */
  readonly tableId: number;
  readonly cookie: bigint;
  readonly cookieMask: bigint;
  /** The cookie an added or modified flow gets; COOKIE_KEEP leaves a modified flow's cookie. */
  readonly newCookie: bigint;
  readonly idleTimeout: number;
  readonly hardTimeout: number;
  readonly importance: number;
  /** FF bits. */
  readonly flags: number;
  readonly bufferId: number;
  /** The switch's 16-bit numbering (OFPP_NONE 0xffff for none). */
  readonly outPort: number;
  readonly outGroup: number;
  readonly actions: readonly TextAction[];
  /** Wire version it came in (for consistency rules and replies). */
  readonly version: number;
}

export interface FlowStatsQuery {
  readonly tableId: number;
  readonly match: Match;
  readonly outPort: number;
  readonly outGroup: number;
  readonly cookie: bigint;
  readonly cookieMask: bigint;
}

const COMMANDS: readonly FlowModCommand[] = ['add', 'modify', 'modify_strict', 'delete', 'delete_strict'];

/** OF1.1+ 32-bit port into the switch's 16-bit space (OVS's ofp_port_t); out of range is OFPBAC_BAD_OUT_PORT. */
export function port16(p: number): number {
  if (p < 0xff00) return p;
  if (p >= 0xffffff00) return p - 0xffff0000;
  throw new OfError('OFPBAC_BAD_OUT_PORT', `port ${p} has no 16-bit form`);
}

/**
 * OVS's canonical naming: OXM's vlan_vid/vlan_pcp become the vlan_tci slot and
 * ip_dscp becomes nw_tos, so one rule has one spelling whatever version added it.
 */
export function canonicalMatch(m: Match): Match {
  if (!('vlan_vid' in m) && !('vlan_pcp' in m) && !('ip_dscp' in m)) return m;
  const out: Record<string, { value: bigint; mask?: bigint }> = {};
  let tciValue = 0n;
  let tciMask = 0n;
  for (const [name, fm] of Object.entries(m)) {
    if (name === 'vlan_vid') {
      const mask = fm.mask ?? 0x1fffn;
      tciValue |= fm.value & mask & 0x1fffn;
      tciMask |= mask & 0x1fffn;
    } else if (name === 'vlan_pcp') {
      tciValue |= ((fm.value & 7n) << 13n) | 0x1000n;
      tciMask |= 0xe000n | 0x1000n;
    } else if (name === 'ip_dscp') {
      out.nw_tos = { value: (fm.value & 0x3fn) << 2n, mask: 0xfcn };
    } else {
      out[name] = fm;
    }
  }
  if (tciMask) out.vlan_tci = tciMask === 0xffffn ? { value: tciValue } : { value: tciValue, mask: tciMask };
  return out;
}

function commandOf(code: number): FlowModCommand {
  const c = COMMANDS[code];
  if (!c) throw new OfError('OFPFMFC_BAD_COMMAND', `flow_mod command ${code}`);
  return c;
}

function checkMatch(match: Match): Match {
  validateMatch(match);
  return canonicalMatch(match);
}

/** Table 254 is OVS's hidden internal table: it exists, but a flow_mod may not touch it (OVS: OFPBRC_EPERM). */
function checkWritable(tableId: number): void {
  if (tableId !== TABLE_ALL && tableId >= N_TABLES) throw new OfError('OFPBRC_EPERM', `table ${tableId} is the switch's internal table`);
}

/** Decodes any flow_mod message. `tableIdExt` is the connection's NXT_FLOW_MOD_TABLE_ID setting (OF1.0 only). */
export function decodeFlowMod(msg: MessageOf<'FLOW_MOD'> | MessageOf<'NXT_FLOW_MOD'>, tableIdExt: boolean): OfFlowMod {
  const v = msg.version;
  if (v === 1) {
    const b = msg.body as MessageOf<'NXT_FLOW_MOD'>['body'];
    const raw = b.command;
    const command = commandOf(tableIdExt ? raw & 0xff : raw);
    const isAdd = command === 'add';
    let tableId = isAdd ? 0 : TABLE_ALL;
    if (tableIdExt && raw >> 8 !== 0xff) tableId = raw >> 8;
    else if (tableIdExt && !isAdd) tableId = TABLE_ALL;
    const match = checkMatch(b.match);
    const actions = actionsFromWire(b.actions, v);
    checkSetDestinations(actions);
    checkConsistency(actions, match, v);
    checkWritable(tableId);
    return {
      command, match, priority: b.priority, tableId, cookie: 0n, cookieMask: 0n, newCookie: b.cookie,
      // OF1.0 has no reset_counts flag: an add always resets the counters (OVS then reports the flag in OF1.2+).
      idleTimeout: b.idle_timeout, hardTimeout: b.hard_timeout, importance: 0, flags: (b.flags & 0x3) | (isAdd ? FF.RESET_COUNTS : 0),
      bufferId: b.buffer_id, outPort: b.out_port, outGroup: GROUP_ANY, actions, version: v,
    };
  }
  const b = msg.body as MessageOf<'FLOW_MOD'>['body'] & {
    cookie_mask: bigint; table_id: number; out_group: number; instructions: Parameters<typeof instructionsFromWire>[0]; importance?: number;
  };
  const command = commandOf(b.command);
  if (command === 'add' && b.table_id === TABLE_ALL) throw new OfError('OFPFMFC_BAD_TABLE_ID', 'add to table 255');
  const match = checkMatch(b.match);
  const actions = command === 'delete' || command === 'delete_strict' ? [] : instructionsFromWire(b.instructions, v);
  checkSetDestinations(actions);
  checkConsistency(actions, match, v);
  const isAdd = command === 'add';
  const flagMask = v >= 4 ? 0x1f : 0x7;
  if (b.flags & ~flagMask & 0xffff) throw new OfError('OFPFMFC_BAD_FLAGS', `flags 0x${b.flags.toString(16)}`);
  if (isAdd && b.cookie_mask !== 0n && b.cookie === COOKIE_KEEP) throw new OfError('OFPFMFC_BAD_COMMAND', 'add with the reserved cookie');
  checkWritable(b.table_id);
  return {
    command, match, priority: b.priority, tableId: b.table_id, cookie: b.cookie, cookieMask: isAdd ? 0n : b.cookie_mask,
    newCookie: isAdd ? b.cookie : COOKIE_KEEP, idleTimeout: b.idle_timeout, hardTimeout: b.hard_timeout,
    importance: b.importance ?? 0, flags: b.flags & flagMask, bufferId: b.buffer_id, outPort: port16(b.out_port), outGroup: b.out_group,
    actions, version: v,
  };
}

/** Flow and aggregate statistics requests of every version (NXST_FLOW included). */
export function decodeFlowStatsRequest(body: FlowStatsRequest | NxFlowStatsRequest, version: number, nx: boolean): FlowStatsQuery {
  if (version === 1) {
    const b = body as { match: Match; table_id: number; out_port: number };
    if (b.table_id !== TABLE_ALL && b.table_id >= N_TABLES) throw new OfError('OFPBRC_BAD_TABLE_ID', `table ${b.table_id}`);
    const ck = nx ? nxmCookie(b.match) : undefined;
    return {
      tableId: b.table_id, match: checkMatch(b.match), outPort: b.out_port, outGroup: GROUP_ANY,
      cookie: ck?.value ?? 0n, cookieMask: ck ? ck.mask ?? COOKIE_KEEP : 0n,
    };
  }
  const b = body as { match: Match; table_id: number; out_port: number; out_group: number; cookie: bigint; cookie_mask: bigint };
  if (b.table_id !== TABLE_ALL && b.table_id >= N_TABLES) throw new OfError('OFPBRC_BAD_TABLE_ID', `table ${b.table_id}`);
  return {
    tableId: b.table_id, match: checkMatch(b.match), outPort: port16(b.out_port), outGroup: b.out_group, cookie: b.cookie, cookieMask: b.cookie_mask,
  };
}

/** True when an action list sends to `port` (OVS's ofpacts_output_to_port, nested lists included). */
export function actionsOutputTo(list: readonly TextAction[], port: number): boolean {
  if (port === OFPP.ANY) return true;
  for (const a of list) {
    switch (a.type) {
      case 'output': case 'enqueue': if (a.port === port) return true; break;
      case 'controller': if (port === OFPP.CONTROLLER) return true; break;
      case 'write_actions': case 'clone': if (actionsOutputTo(a.actions, port)) return true; break;
      case 'ct': if (actionsOutputTo(a.exec, port)) return true; break;
      default: break;
    }
  }
  return false;
}

/** True when an action list refers to `group` (OFPG_ANY matches every list). */
export function actionsOutputToGroup(list: readonly TextAction[], group: number): boolean {
  if (group === GROUP_ANY) return true;
  for (const a of list) {
    if (a.type === 'group' && a.group === group) return true;
    if ((a.type === 'write_actions' || a.type === 'clone') && actionsOutputToGroup(a.actions, group)) return true;
  }
  return false;
}
