// How the printers turn matches and actions into text: through the flow text
// layer (src/openflow/text), the way ovs-ofctl's ofp-print does.

import type { Action, Instruction, Match } from '../index.js';
import { checkConsistency, checkSetDestinations } from '../text/consistency.js';
import { actionsFromWire, formatWireActions, formatWireMatch, instructionsFromWire } from '../text/wire.js';

export interface FlowFormatter {
  /** OVS match_format: the match, with "priority=N," first unless N is the default 32768. */
  match(match: Match, priority: number, version: number): string;
  /**
   * OVS ofpacts_format of an action list ("drop" when empty). With `match`
   * (FLOW_MOD, PACKET_OUT) the actions must also fit it, or this throws
   * OfError OFPBAC_MATCH_INCONSISTENT as OVS's decoder fails.
   */
  actions(actions: readonly Action[], version: number, match?: Match): string;
  /** OVS ofpacts_format of an instruction list (apply_actions inline, the others by name); `match` as for actions. */
  instructions(instructions: readonly Instruction[], version: number, match?: Match): string;
}

function checked(list: ReturnType<typeof actionsFromWire>, version: number, match: Match | undefined): string {
  // As OVS's action decoder, which refuses a write into a read-only field wherever the actions come from.
  checkSetDestinations(list);
  if (match) checkConsistency(list, match, version);
  return formatWireActions(list, version);
}

/** ovs-ofctl's text for matches, actions and instructions. */
export const textFormatter: FlowFormatter = {
  match: (match, priority) => formatWireMatch(match, priority),
  actions: (actions, version, match) => checked(actionsFromWire(actions, version), version, match),
  instructions: (instructions, version, match) => checked(instructionsFromWire(instructions, version), version, match),
};
