// Action lists shared between rules. A controller installs many flows with
// the same few action lists (output:2, drop, a VLAN push and an output); each
// rule points at one shared list, and its wire forms are built once for all
// of them, not once per rule. A list no rule uses any more is collected with
// its last rule: the table holds it weakly.

import { actionsToWire, instructionsToWire, type Protocol, type TextAction } from '../openflow/index.js';

export class ActionSet {
  /** The wire forms made so far, by protocol (a dump asks for one, a monitor in another version for a second). */
  private wire: Map<Protocol, unknown> | null = null;

  constructor(readonly list: readonly TextAction[]) {}

  /** Actions (OF1.0/NXM) or instructions (OF1.1+) for protocol `p`, leaving out what it cannot carry. */
  wireFor(p: Protocol, encodable: (list: readonly TextAction[], p: Protocol) => readonly TextAction[]): unknown {
    this.wire ??= new Map();
    let w = this.wire.get(p);
    if (w === undefined) {
      const list = encodable(this.list, p);
      w = p === 'NXM' || p === 'OpenFlow10' ? actionsToWire(list, p) : instructionsToWire(list, p);
      this.wire.set(p, w);
    }
    return w;
  }
}

/**
 * A text that two action lists share only when their contents are the same: every string and bigint carries a
 * type letter, so no value of one type reads as another.
 */
function keyOf(list: readonly TextAction[]): string {
  // Most actions have only numbers and strings (output, drop, push_vlan): those need no JSON.
  let flat = '';
  for (const a of list) {
    flat += '{';
    for (const k in a) {
      const v = (a as unknown as Record<string, unknown>)[k];
      if (typeof v === 'number') flat += `${k}:${v},`;
      else if (typeof v === 'string') flat += `${k}:s${JSON.stringify(v)},`;
      else if (v !== undefined) return `j${deepKeyOf(list)}`;
    }
    flat += '}';
  }
  return `f${flat}`;
}

function deepKeyOf(list: readonly TextAction[]): string {
  return JSON.stringify(list, (_k, v: unknown) => {
    if (typeof v === 'string') return `s${v}`;
    if (typeof v === 'bigint') return `b${v}`;
    if (ArrayBuffer.isView(v)) return `u${Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex')}`;
    // An empty key is no action field's name.
    if (v instanceof Map) return { '': 'map', entries: [...v] };
    if (v instanceof Set) return { '': 'set', entries: [...v] };
    return v;
  });
}

const sets = new Map<string, WeakRef<ActionSet>>();
const collected = new FinalizationRegistry<string>((key) => {
  // A newer set may have taken the key since this one was dropped.
  if (sets.get(key)?.deref() === undefined) sets.delete(key);
});

/** The shared set for `list`: the one already in use with the same contents, else a new one. */
export function shareActions(list: readonly TextAction[]): ActionSet {
  const key = keyOf(list);
  const known = sets.get(key)?.deref();
  if (known) return known;
  const set = new ActionSet(list);
  sets.set(key, new WeakRef(set));
  collected.register(set, key);
  return set;
}
