// The OpenFlow wire codec: the public face of src/openflow.
// Pure TypeScript on node: builtins only; nothing here imports the rest of tsw.

export {
  OfError, errorWire, errorName, allErrorNames, NX_VENDOR_ID, ONF_VENDOR_ID, NXET_VENDOR, OFPET_EXPERIMENTER,
  type OfErrorName, type ErrorWire,
} from './errors.js';
export {
  Reader, Writer, encode, decode, struct, list, tlvList, propList, mapped, pad, length16, lengthOf, constant, u8, u16, u32, u64, mac, ipv4,
  bytes, rest, restMod, str, macToString, macFromString, padTo,
  type Codec, type HiddenCodec, type ListCodec, type Shape, type StructValue, type ValueOf, type RawTlv, type RawProp, type Prop, type StructOptions,
} from './wire.js';
export {
  OFP10_VERSION, OFP13_VERSION, OFP14_VERSION, OFP15_VERSION, SUPPORTED_VERSIONS, OFP_HEADER_LEN, OFP_MAX_MSG_LEN,
  OFPHET_VERSIONBITMAP, OFPPR_ADD, OFPPR_DELETE, OFPPR_MODIFY,
  OFPFC_ADD, OFPFC_MODIFY, OFPFC_MODIFY_STRICT, OFPFC_DELETE, OFPFC_DELETE_STRICT,
  encodeMessage, decodeMessage, decodeHeader, messageType, messageRows, isSupportedVersion, errorReply, errorBodyName,
  type OfMessage, type MessageRow, type BundleAdd, type MessageOf, type MessageKind, type MessageBodies, type OfHeader,
  type Hello, type HelloElement, type ErrorBody, type ErrorStd, type ErrorExp, type Echo, type Experimenter, type Empty,
  type FeaturesReply, type FeaturesReply10, type FeaturesReply13, type SwitchConfig, type PortStatus,
  type FlowRemoved, type FlowRemoved10, type FlowRemoved13, type FlowMod, type FlowMod10, type FlowMod13, type FlowMod14,
} from './messages.js';
export { OfFramer } from './framing.js';
export { makeHello, helloVersions, negotiateVersion, type Negotiation } from './hello.js';
export {
  OFPP, OFPPDPT_ETHERNET, OFPPDPT_OPTICAL, port10, port13, port14, portCodec, port10To11, port11To10,
  type Port, type Port10, type Port13, type Port14, type PortProp,
} from './port.js';
export {
  MATCH_FIELDS, FIELD_BY_NAME, FIELD_BY_CODE, OFPXMC_NXM_0, OFPXMC_NXM_1, OFPXMC_OPENFLOW_BASIC, OFPXMC_PACKET_REGS, OFPXMC_EXPERIMENTER,
  CS, OFPVID_PRESENT, codeFor, codeKey, TUN_METADATA_FIELDS, TUN_METADATA_BYTES, tunMetadataIndex, type MatchField, type FieldCode, type Prereq,
} from './fields.js';
export {
  oxmMatch, of10Match, tlvFields, checkPrerequisites, checkFieldMatch, validateMatch, OFPFW10, OFPMT_OXM, OFPMT_STANDARD, NXM,
  oxmEntry, variableEntryShape, type Match, type FieldMatch, type OxmEntry,
} from './match.js';
export {
  multipartCodec, multipartRows, multipartParts, splitMultipartReply, MultipartAssembler, OFPMPF_REQ_MORE, OFPMPF_REPLY_MORE, OFPTFPT, OFPFME,
  type MultipartRequest, type MultipartReply, type MultipartKind, type MultipartBodies, type Desc, type PortDescRequest, type Entries,
  type FlowStatsRequest, type FlowStats, type FlowDesc15, type AggregateStatsReply, type TableStats, type TableFeatures, type TableFeatureProp,
  type PortStatsRequest, type PortStats, type PortStatsProp, type QueueStatsRequest, type QueueStats, type QueueDesc, type IdRequest,
  type GroupStats, type GroupFeatures, type MeterStats, type MeterFeatures, type FlowMonitorRequest, type FlowUpdate, type ExperimenterStats,
} from './multipart.js';
export {
  actionList, instructionList, NX_LEARN_SRC_IMMEDIATE, NX_LEARN_DST_MATCH, NX_LEARN_DST_LOAD, NX_LEARN_DST_OUTPUT, NX_NAT_RANGE,
  type Action, type Action10, type Action13, type Action15, type Instruction, type LearnSpec, type Subfield, type NatRange,
  type CtAction, type CloneAction,
  NXAC2PT, type Controller2Prop,
} from './actions.js';
export {
  oxsStats, OFPXSC_OPENFLOW_BASIC, type OxsStats, type OxsField, type PacketIn, type PacketIn10, type PacketIn13,
  type PacketOut, type PacketOut10, type PacketOut11, type PacketOut15, type FlowRemoved15,
} from './packet.js';
export {
  OFPGC, OFPGT, OFPMBT,
  type PortMod, type PortMod10, type PortMod11, type PortMod14, type PortModProp, type TableMod, type TableMod11, type TableMod14, type TableModProp,
  type TableDesc, type GroupMod, type GroupMod11, type GroupMod15, type Bucket11, type Bucket15, type BucketProp, type GroupDesc,
  type MeterMod, type MeterBand, type MeterConfig,
} from './mods.js';
export {
  OFPCR_ROLE, OFPACPT, OFPBCT, OFPBF,
  type QueueGetConfigRequest, type QueueGetConfigReply, type QueueProp, type RoleRequest, type RoleStatus,
  type AsyncConfig13, type AsyncConfig14, type AsyncProp, type TableStatus, type BundleControl,
} from './controller.js';
export {
  NXFF_OPENFLOW10, NXFF_NXM, NXPIF_STANDARD, NXPIF_NXT_PACKET_IN, NXPIF_NXT_PACKET_IN2, NXM_COOKIE, nxmCookie,
  type NxBodies, type NxFlowMod, type NxFlowStatsRequest, type NxFlowStats, type AggregateReply, type PacketIn2Prop,
} from './nicira.js';
export {
  NXTTMC, NXT_CT, NXT_CT_TUPLE, NXFME, ONF_FLOW_MONITOR,
  type Nx2Bodies, type TlvMap, type CtFlushProp, type CtTupleProp, type NxFlowMonitorRequest, type NxFlowUpdate, type IpfixStats,
} from './nicira2.js';
export {
  TLV_MAX_FIELDS, TLV_MAX_OPTION_SPACE, TLV_MAX_OPT_SIZE, tlvMappingsProblem, checkTlvTableMod, parseTlvMappings, formatTlvMapping,
  type TlvTableCommand,
} from './tlv-table.js';
export * from './text/index.js';
