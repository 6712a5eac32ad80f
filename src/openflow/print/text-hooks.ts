// How the printers turn matches and actions into text. The flow text layer
// (src/openflow/text) supplies the real formatters; until it is wired in, a
// plain fallback keeps every message printable.

import { port16 } from './util.js';
import type { Action, Instruction, Match } from '../index.js';

export interface FlowFormatter {
  /** OVS match_format: the match, with "priority=N," first unless N is the default 32768. */
  match(match: Match, priority: number, version: number): string;
  /** OVS ofpacts_format of an action list ("drop" when empty). */
  actions(actions: readonly Action[], version: number): string;
  /** OVS ofpacts_format of an instruction list (apply_actions inline, the others by name). */
  instructions(instructions: readonly Instruction[], version: number): string;
}

function fieldText(name: string, value: bigint, mask: bigint | undefined): string {
  const v = name === 'in_port' ? value.toString() : '0x' + value.toString(16);
  return mask === undefined ? `${name}=${v}` : `${name}=${v}/0x${mask.toString(16)}`;
}

function actionText(a: Action, version: number): string {
  if (a.type === 'output' && 'port' in a) return `output:${port16(Number(a.port), version)}`;
  return a.type;
}

/** A plain fallback: every field as name=hex, actions by kind. */
export const fallbackFormatter: FlowFormatter = {
  match(match, priority) {
    const parts: string[] = [];
    if (priority !== 0x8000) parts.push(`priority=${priority}`);
    for (const [name, f] of Object.entries(match)) parts.push(fieldText(name, f.value, f.mask));
    return parts.join(',');
  },
  actions(actions, version) {
    return actions.length ? actions.map((a) => actionText(a, version)).join(',') : 'drop';
  },
  instructions(instructions, version) {
    const parts: string[] = [];
    for (const i of instructions) {
      if (i.type === 'apply_actions' && 'actions' in i) parts.push(...i.actions.map((a) => actionText(a, version)));
      else parts.push(i.type);
    }
    return parts.length ? parts.join(',') : 'drop';
  },
};
