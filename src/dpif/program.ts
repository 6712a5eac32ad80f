// A megaflow's actions compiled for execution on a group of packets of a
// batch (OVS's packet_batch_per_flow): set actions pre-compiled to word
// patches, and for each output whether the frames may wait for one
// transmit per port at the end of the batch (nothing changes them after).

import type { FrameBatch } from '../native/batch.js';
import { DpifError, type DpAction } from './actions.js';
import { applySet, compileSet, makeRoom, popMpls, popVlan, pushMpls, pushVlan, type SetProgram } from './frame-edit.js';
import { pushTunnelHeader } from './tunnel-header.js';

export interface Program {
  readonly actions: readonly DpAction[];
  readonly sets: readonly (SetProgram | null)[];
  /** 1 where an output's frames are not changed by any later action (they may be sent with the batch). */
  readonly deferOk: Uint8Array;
  /** A clone's own program, at its index. */
  readonly nested: readonly (Program | null)[];
}

const MODIFIES = new Set<DpAction['type']>(['set', 'push_vlan', 'pop_vlan', 'push_mpls', 'pop_mpls', 'tnl_push']);

export function compileActions(actions: readonly DpAction[]): Program {
  const sets: (SetProgram | null)[] = [];
  const nested: (Program | null)[] = actions.map((a) => (a.type === 'clone' ? compileActions(a.actions) : null));
  const deferOk = new Uint8Array(actions.length);
  let modifiedLater = false;
  for (let i = actions.length - 1; i >= 0; i--) {
    const a = actions[i]!;
    if (a.type === 'output') deferOk[i] = modifiedLater ? 0 : 1;
    if (MODIFIES.has(a.type)) modifiedLater = true;
  }
  for (const a of actions) {
    switch (a.type) {
      case 'set': sets.push(compileSet(a.key, a.mask)); break;
      case 'output': case 'meter':
        if (!Number.isInteger(a.type === 'output' ? a.port : a.id)) throw new DpifError(`${a.type} action needs an integer, got ${JSON.stringify(a)}`);
        sets.push(null);
        break;
      case 'push_vlan':
        if (a.tpid !== 0x8100 && a.tpid !== 0x88a8) throw new DpifError(`push_vlan tpid 0x${a.tpid.toString(16)} is neither 0x8100 nor 0x88a8`);
        sets.push(null);
        break;
      case 'push_mpls': case 'pop_mpls':
        if (a.type === 'push_mpls' && a.ethertype !== 0x8847 && a.ethertype !== 0x8848) throw new DpifError(`push_mpls ethertype 0x${a.ethertype.toString(16)} is not MPLS`);
        sets.push(null);
        break;
      case 'tnl_push':
        if (a.header.length < 38 || a.header.length > 128) throw new DpifError(`tnl_push header of ${a.header.length} bytes`);
        sets.push(null);
        break;
      default: sets.push(null);
    }
  }
  return { actions, sets, deferOk, nested };
}

/** What execution needs from the datapath: ports, meters, the slow path, frame room. */
export interface ExecEnv {
  /** Sends frames now (they may change afterwards). */
  outputNow(port: number, batch: FrameBatch, idx: Uint16Array, n: number): void;
  /** Queues frame i for port `port`, sent once the whole batch is done. */
  outputLater(port: number, batch: FrameBatch, i: number): void;
  userspace(a: Extract<DpAction, { type: 'userspace' }>, batch: FrameBatch, i: number): void;
  meter(id: number, bytes: number, now: number): boolean;
  /** Where the previous frame ends, per frame, and the free space after all frames (for pushes). */
  readonly floor: Uint32Array;
  readonly tail: { at: number };
  /** Packets dropped for want of room to push a header. */
  noRoom: number;
  /** Runs `prog` on a copy of frame i (a clone). */
  clone(prog: Program, batch: FrameBatch, i: number, now: number): void;
  /** Decapsulates frame i for tunnel port `port` and queues it to go through the datapath again (or drops it). */
  tnlPop(port: number, batch: FrameBatch, i: number): void;
}

const savedLen = new Uint32Array(65536);

/** Runs a program on frames idx[0..n) of the batch (in place); returns how many survived meters. */
export function execute(env: ExecEnv, batch: FrameBatch, prog: Program, idx: Uint16Array, n: number, now: number): number {
  const acts = prog.actions;
  let cut = -1;
  for (let a = 0; a < acts.length && n > 0; a++) {
    const act = acts[a]!;
    switch (act.type) {
      case 'output':
        if (cut < 0 && prog.deferOk[a]) {
          for (let k = 0; k < n; k++) env.outputLater(act.port, batch, idx[k]!);
        } else if (cut >= 0) {
          // Truncation applies to this output only: shorten, send, restore.
          for (let k = 0; k < n; k++) {
            const i = idx[k]!;
            savedLen[k] = batch.len[i]!;
            if (batch.len[i]! > cut) batch.len[i] = cut;
          }
          env.outputNow(act.port, batch, idx, n);
          for (let k = 0; k < n; k++) batch.len[idx[k]!] = savedLen[k]!;
        } else {
          env.outputNow(act.port, batch, idx, n);
        }
        cut = -1;
        break;
      case 'set': {
        const sp = prog.sets[a]!;
        for (let k = 0; k < n; k++) applySet(batch, idx[k]!, sp);
        break;
      }
      case 'push_vlan':
      case 'push_mpls': {
        let m = 0;
        for (let k = 0; k < n; k++) {
          const i = idx[k]!;
          if (!makeRoom(batch, i, 4, env.floor, env.tail)) { env.noRoom++; continue; }
          if (act.type === 'push_vlan') pushVlan(batch, i, act.tpid, act.tci);
          else pushMpls(batch, i, act.ethertype, act.lse);
          idx[m++] = i;
        }
        n = m;
        break;
      }
      case 'pop_vlan':
        for (let k = 0; k < n; k++) popVlan(batch, idx[k]!);
        break;
      case 'pop_mpls':
        for (let k = 0; k < n; k++) popMpls(batch, idx[k]!, act.ethertype);
        break;
      case 'userspace':
        for (let k = 0; k < n; k++) env.userspace(act, batch, idx[k]!);
        break;
      case 'meter': {
        let m = 0;
        for (let k = 0; k < n; k++) {
          const i = idx[k]!;
          if (env.meter(act.id, batch.len[i]!, now)) idx[m++] = i;
        }
        n = m;
        break;
      }
      case 'trunc':
        cut = act.maxLen;
        break;
      case 'tnl_push': {
        let m = 0;
        for (let k = 0; k < n; k++) {
          const i = idx[k]!;
          if (!makeRoom(batch, i, act.header.length, env.floor, env.tail)) { env.noRoom++; continue; }
          pushTunnelHeader(batch.buf, batch.off[i]!, batch.len[i]!, act.header);
          batch.off[i] = batch.off[i]! - act.header.length;
          batch.len[i] = batch.len[i]! + act.header.length;
          idx[m++] = i;
        }
        n = m;
        break;
      }
      case 'clone': {
        const sub = prog.nested[a]!;
        for (let k = 0; k < n; k++) env.clone(sub, batch, idx[k]!, now);
        break;
      }
      case 'tnl_pop':
        for (let k = 0; k < n; k++) env.tnlPop(act.port, batch, idx[k]!);
        n = 0;
        break;
    }
  }
  return n;
}
