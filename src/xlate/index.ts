// The pipeline layer's public face: a packet's way through a bridge's
// OpenFlow tables (OVS's ofproto-dpif-xlate), NORMAL's MAC learning, and
// ofproto/trace.
export {
  OFPP, PORT_CONFIG, type PacketInReason, type TunnelEncap, type TunnelFlow, type TunnelKind, type XlateTunnels, type XlateBridge, type XlateBucket, type XlateConnmgr, type XlateGroup, type XlateGroups,
  type XlateMeters, type XlateNetdev, type XlatePacketIn, type XlatePort, type XlateRule, type XlateTable,
} from './bridge.js';
export { MacLearning, MAC_DEFAULT_IDLE_TIME, MAC_DEFAULT_MAX, macTableOf, type MacLearningOptions } from './mac-learning.js';
export { Pipeline, type PipelineOptions, type PipelineStats } from './pipeline.js';
export { DatapathPipeline, type DatapathNetdev, type DatapathPipelineOptions } from './datapath.js';
export { MAX_MIRRORS, mirrorsOf, setMirrors, type XlateMirror } from './mirror.js';
export {
  TPID_8021AD, TPID_8021Q, TRUNK_ALL, resolvePortVlan, type PortVlan, type PortVlanConfig, type PriorityTags, type VlanMode,
} from './vlan.js';
export { translate, type XlateResult } from './xlate.js';
export { MAX_DEPTH, MAX_RESUBMITS, type XlateError, type XlateInput } from './context.js';
export { executeActions, type ExecuteResult } from './execute.js';
export type { DpAction } from './odp.js';
export { trace, traceCommand, parsePacketHex, TraceError, type TraceOptions } from './trace.js';
export { formatTrace, type TraceNode } from './trace-tree.js';

import type { XlateBridge } from './bridge.js';
import { macTableOf } from './mac-learning.js';

/** `ovs-appctl fdb/show BRIDGE`. */
export function fdbShow(bridge: XlateBridge): string {
  return macTableOf(bridge).show();
}

/** `ovs-appctl fdb/flush [BRIDGE]` for one bridge; the command replies "table successfully flushed". */
export function fdbFlush(bridge: XlateBridge): void {
  macTableOf(bridge).flush();
}
