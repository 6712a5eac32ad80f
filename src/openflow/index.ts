// The OpenFlow wire codec: the public face of src/openflow.
// Pure TypeScript on node: builtins only; nothing here imports the rest of tsw.

export {
  OfError, errorWire, errorName, allErrorNames, NX_VENDOR_ID, ONF_VENDOR_ID, NXET_VENDOR, OFPET_EXPERIMENTER,
  type OfErrorName, type ErrorWire,
} from './errors.js';
export {
  Reader, Writer, encode, decode, struct, list, tlvList, mapped, pad, length16, u8, u16, u32, u64, mac, ipv4, bytes, rest, str,
  macToString, macFromString, padTo,
  type Codec, type HiddenCodec, type StructValue, type ValueOf, type RawTlv, type StructOptions,
} from './wire.js';
export {
  OFP10_VERSION, OFP13_VERSION, OFP14_VERSION, OFP15_VERSION, SUPPORTED_VERSIONS, OFP_HEADER_LEN, OFP_MAX_MSG_LEN,
  OFPHET_VERSIONBITMAP, OFPPR_ADD, OFPPR_DELETE, OFPPR_MODIFY,
  OFPFC_ADD, OFPFC_MODIFY, OFPFC_MODIFY_STRICT, OFPFC_DELETE, OFPFC_DELETE_STRICT,
  encodeMessage, decodeMessage, decodeHeader, messageType, isSupportedVersion, errorReply, errorBodyName,
  type OfMessage, type MessageOf, type MessageKind, type MessageBodies, type OfHeader,
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
  CS, OFPVID_PRESENT, codeFor, codeKey, type MatchField, type FieldCode, type Prereq,
} from './fields.js';
export {
  oxmMatch, of10Match, tlvFields, checkPrerequisites, checkFieldMatch, validateMatch, OFPFW10, OFPMT_OXM, OFPMT_STANDARD, NXM,
  oxmEntry, type Match, type FieldMatch, type OxmEntry,
} from './match.js';
export {
  multipartCodec, splitMultipartReply, MultipartAssembler, OFPMPF_REQ_MORE, OFPMPF_REPLY_MORE,
  type MultipartRequest, type MultipartReply, type MultipartKind, type MultipartBodies, type Desc, type PortDescRequest, type Entries,
} from './multipart.js';
export {
  actionList, instructionList, type Action, type Action10, type Action13, type Action15, type Instruction,
} from './actions.js';
