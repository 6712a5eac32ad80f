// OpenFlow 1.4 bundles: a connection opens a bundle, adds messages to it,
// and commits them as one change. With the ATOMIC flag either every message
// applies or the switch is left as it was; the flow tables are restored from
// a snapshot when a message in the middle fails.

import { OfError, type MessageOf, type OfMessage } from '../openflow/index.js';
import type { OfConn } from './connmgr.js';
import { decodeFlowMod } from './flow-mod.js';
import type { Ofproto } from './ofproto.js';
import type { Rule } from './rule.js';

/** OFPBCT_* control types. */
const BCT = { OPEN_REQUEST: 0, OPEN_REPLY: 1, CLOSE_REQUEST: 2, CLOSE_REPLY: 3, COMMIT_REQUEST: 4, COMMIT_REPLY: 5, DISCARD_REQUEST: 6, DISCARD_REPLY: 7 } as const;
const BF_ATOMIC = 1;
const BF_ORDERED = 2;
/** Messages a bundle may carry (what OVS accepts). */
const BUNDLEABLE = new Set(['FLOW_MOD', 'NXT_FLOW_MOD', 'GROUP_MOD', 'PORT_MOD', 'PACKET_OUT', 'METER_MOD']);
/** Bound on what one connection can make the switch hold. */
const MAX_BUNDLES_PER_CONN = 64;
const MAX_MESSAGES_PER_BUNDLE = 100_000;

interface Bundle {
  readonly id: number;
  readonly flags: number;
  closed: boolean;
  readonly messages: Array<{ msg: OfMessage; raw: Uint8Array }>;
}

export class Bundles {
  private readonly byConn = new Map<OfConn, Map<number, Bundle>>();

  constructor(private readonly of: Ofproto) {}

  private bundlesOf(conn: OfConn): Map<number, Bundle> {
    let m = this.byConn.get(conn);
    if (!m) {
      m = new Map();
      this.byConn.set(conn, m);
    }
    return m;
  }

  discardAll(conn: OfConn): void {
    this.byConn.delete(conn);
  }

  control(conn: OfConn, msg: MessageOf<'BUNDLE_CONTROL'>): void {
    const { bundle_id: id, type, flags } = msg.body;
    const bundles = this.bundlesOf(conn);
    const existing = bundles.get(id);
    const replyType = (t: number) => conn.send({ version: msg.version, xid: msg.xid, kind: 'BUNDLE_CONTROL', body: { bundle_id: id, type: t, flags, properties: [] } } as OfMessage);
    if (flags & ~(BF_ATOMIC | BF_ORDERED)) throw new OfError('OFPBFC_BAD_FLAGS', `flags 0x${flags.toString(16)}`);
    switch (type) {
      case BCT.OPEN_REQUEST:
        if (existing) throw new OfError('OFPBFC_BUNDLE_EXIST', `bundle ${id} is open`);
        if (bundles.size >= MAX_BUNDLES_PER_CONN) throw new OfError('OFPBFC_OUT_OF_BUNDLES', `${bundles.size} bundles open`);
        bundles.set(id, { id, flags, closed: false, messages: [] });
        replyType(BCT.OPEN_REPLY);
        return;
      case BCT.CLOSE_REQUEST:
        if (!existing) throw new OfError('OFPBFC_BAD_ID', `no bundle ${id}`);
        if (existing.closed) throw new OfError('OFPBFC_BUNDLE_CLOSED', `bundle ${id} is closed`);
        if (existing.flags !== flags) throw new OfError('OFPBFC_BAD_FLAGS', 'flags differ from the open request');
        existing.closed = true;
        replyType(BCT.CLOSE_REPLY);
        return;
      case BCT.COMMIT_REQUEST: {
        if (!existing) throw new OfError('OFPBFC_BAD_ID', `no bundle ${id}`);
        if (existing.flags !== flags) throw new OfError('OFPBFC_BAD_FLAGS', 'flags differ from the open request');
        bundles.delete(id);
        this.commit(conn, existing);
        replyType(BCT.COMMIT_REPLY);
        return;
      }
      case BCT.DISCARD_REQUEST:
        if (!existing) throw new OfError('OFPBFC_BAD_ID', `no bundle ${id}`);
        bundles.delete(id);
        replyType(BCT.DISCARD_REPLY);
        return;
      default:
        throw new OfError('OFPBFC_BAD_TYPE', `bundle control type ${type}`);
    }
  }

  add(conn: OfConn, msg: MessageOf<'BUNDLE_ADD_MESSAGE'>, raw: Uint8Array): void {
    const { bundle_id: id, flags, message } = msg.body;
    const bundles = this.bundlesOf(conn);
    let b = bundles.get(id);
    if (!b) {
      // Adding to an unknown bundle opens it implicitly (OpenFlow 1.4 §7.3.9.3).
      if (bundles.size >= MAX_BUNDLES_PER_CONN) throw new OfError('OFPBFC_OUT_OF_BUNDLES', `${bundles.size} bundles open`);
      b = { id, flags, closed: false, messages: [] };
      bundles.set(id, b);
    }
    if (b.closed) throw new OfError('OFPBFC_BUNDLE_CLOSED', `bundle ${id} is closed`);
    if (b.flags !== flags) throw new OfError('OFPBFC_BAD_FLAGS', 'flags differ from the open request');
    if (message.version !== msg.version) throw new OfError('OFPBFC_BAD_VERSION', `inner version ${message.version}`);
    if (message.xid !== msg.xid) throw new OfError('OFPBFC_MSG_BAD_XID', `inner xid ${message.xid}`);
    if (!BUNDLEABLE.has(message.kind)) throw new OfError('OFPBFC_MSG_UNSUP', `${message.kind} cannot be bundled`);
    if (b.messages.length >= MAX_MESSAGES_PER_BUNDLE) throw new OfError('OFPBFC_MSG_TOO_MANY', `${b.messages.length} messages`);
    // Decode flow mods now, so a bad one is refused when added rather than at commit.
    if (message.kind === 'FLOW_MOD' || message.kind === 'NXT_FLOW_MOD') decodeFlowMod(message, conn.flowModTableId);
    b.messages.push({ msg: message, raw: raw.subarray(16) });
  }

  /** Applies a bundle's messages in order; on a failure restores the flow tables and reports it. */
  private commit(conn: OfConn, b: Bundle): void {
    const snapshot: Rule[] = [];
    for (const t of this.of.tables) for (const r of t.cls) snapshot.push(r);
    const state = snapshot.map((r) => ({ r, cookie: r.cookie, actions: r.actions, packets: r.packets, bytes: r.bytes, modified: r.modified }));
    const groups = this.of.groups.snapshot();
    const meters = this.of.meters.snapshot();
    for (const { msg, raw } of b.messages) {
      try {
        this.of.handleMessage(conn, msg, raw);
      } catch (e) {
        if (!(e instanceof OfError)) throw e;
        this.of.restoreRules(state);
        this.of.groups.restore(groups);
        this.of.meters.restore(meters);
        conn.sendError(e, raw, msg.xid);
        throw new OfError('OFPBFC_MSG_FAILED', `bundle ${b.id}: ${msg.kind} failed (${e.message})`);
      }
    }
  }
}
