// The datapath layer: the userspace datapath (dpif-netdev) with its megaflow
// classifier, exact-match cache, action execution, upcalls and
// revalidation, and the unixctl texts OVS prints for it. Below xlate: it
// knows flow keys, frames and datapath actions, never OpenFlow tables.
export { DpifError, formatAction, formatActions, sameActions, checkSetMask } from './actions.js';
export type { DpAction } from './actions.js';
export { DpifNetdev, normalizeMask } from './dpif-netdev.js';
export type {
  DpPortIo, DpPort, DpPortStats, DpFlow, UpcallFn, UpcallResult, RetranslateFn, DpifNetdevOptions, DpifNetdevStats,
} from './dpif-netdev.js';
export { Dpcls, ExactMatchCache, EMC_ENTRIES } from './dpcls.js';
/** The batch type ports fill and the datapath processes (from the native layer, part of this layer's API). */
export { FrameBatch, FRAME_MAX, HEADROOM } from '../native/batch.js';
export { formatOdpKey, ufidOf, mplsLse } from './odp-key.js';
export type { PortNames, TunnelPorts } from './odp-key.js';
export {
  formatDumpFlow, formatDpctlDumpFlows, formatDpifDumpFlows, formatDpctlShow, formatDpifShow, formatPmdStats,
  formatUpcallShow, formatFlowStats,
} from './format.js';
export type { DumpFlowsOptions, DpifShowPort, DumpableFlow, DatapathView } from './format.js';
export { PmdPool } from './pmd.js';
export type { PmdPoolOptions, PmdPort, PmdThreadStats, PmdFlowRecord } from './pmd.js';
export {
  tunnelHeader, pushTunnelHeader, parseTunnelFrame, formatTunnelHeader, tunnelDpName, TUNNEL_TYPE, encodeGeneveOption, forEachGeneveOption,
  formatGeneveOptions, GENEVE_CRIT_TYPE, GENEVE_MAX_OPTS, putRawGeneveOptions, clearGeneveOptions, takeRawGeneveOptions,
} from './tunnel-header.js';
export type { TunnelKind, TunnelHeaderSpec, TunnelMetadata } from './tunnel-header.js';
