// The OVS text syntax for flows, actions, groups and meters: parsed into
// tsw's Match plus version-free action lists, and printed as ovs-ofctl prints.

export { FlowSyntaxError } from './errors.js';
export { TEXT_FIELDS, textField, subfieldField, subfieldName, type TextField, type ValueFormat } from './fields.js';
export {
  parseFieldValue, parseMatchField, setField, getField, normalizeSlots, slotsToMatch, matchToSlots, formatMatch,
  formatIpMasked, formatIpv6Masked, OFP_DEFAULT_PRIORITY, type FlowSlots, type SlotValue,
} from './match.js';
export {
  parseActions, parseActionList, formatActions, formatActionList, formatAction, parseSubfield, formatSubfield, protocolVersion, protocolFromName, splitTopLevel,
  type TextAction, type SubfieldRef, type Protocol,
} from './actions.js';
export { parseFlow, formatFlowMod, FLOW_FLAGS, type TextFlow, type FlowCommand, type FlowFlag } from './flow.js';
export { parsePort, formatPort, formatIpv6, OFPP as OFPP16 } from './values.js';
export {
  actionFromWire, actionsFromWire, instructionsFromWire, formatWireActions, formatWireMatch,
  actionToWire, actionsToWire, instructionsToWire, flowModMessage, oxmNames, fieldOfHeader, headerOfField, protocolOfVersion,
} from './wire.js';
export { checkConsistency, checkSetDestinations } from './consistency.js';
export {
  parseGroupMod, parseGroupModText, groupModMessage, groupModFromWire, groupFromWire, nxGroupModBytes, nxGroupModFromBytes,
  formatGroup, formatGroupMod, withVlanPushes, GROUP_COMMANDS, GROUP_TYPES, NO_GROUP_PROPS,
  type TextGroupMod, type TextBucket, type GroupCommand, type GroupProps, type SelectionField,
} from './group.js';
export {
  parseMeterMod, parseMeterModText, meterModMessage, meterModFromWire, bandsFromWire, formatMeter, formatMeterMod, formatMeterId,
  METER_COMMANDS, OFPMF, type TextMeterMod, type TextMeterBand, type MeterCommand,
} from './meter.js';
export {
  P as PROTOCOL_BITS, P_ANY, flowProtocols, matchProtocols, actionsParseProtocols, actionsCheckProtocols, fieldMatchProtocols,
  protocolsToString, protocolsOfVersions, protocolBitName, protocolOfBit, versionOfBit,
} from './usable.js';
