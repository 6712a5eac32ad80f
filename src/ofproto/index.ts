// The OpenFlow switch layer's public face: one Ofproto per bridge (tables,
// rules, groups, meters, ports) with its connection manager.
export { Ofproto, PORT_REASON, port32, type OfprotoOptions, type PacketPipeline, type RuleEvent } from './ofproto.js';
export { Connmgr, type OfConn, type ControllerConfig, type PacketInInfo } from './connmgr.js';
export type { TableConfig } from './table.js';
export { OfTable } from './table.js';
export { Rule, REMOVED_REASON } from './rule.js';
export { OfPort, PC, PS, OFPP_LOCAL } from './ports.js';
export { Classifier, compactWords, expandWords, type ClsRule } from './classifier.js';
export { decodeFlowMod, TABLE_ALL, N_TABLES, type OfFlowMod } from './flow-mod.js';
export { TlvTable, type TlvOption, type TlvSpan } from './tlv-map.js';
