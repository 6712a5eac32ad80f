// Flows: the flat key of a packet's fields (OVS's struct flow), extraction
// from frames, composing frames from flow text, rewriting frames after the
// pipeline changed fields, and printing. Sits just above src/openflow.
export {
  FLOW_WORDS, newFlowKey, getField, setField, hasField, fieldBits, matchToKeyMask, keyMaskToMatch, fieldWord, fieldSlot,
} from './key.js';
export { extractFlow, composePacket, applyFlowToPacket, fixChecksums } from './packet.js';
export { matchOfWords } from './minimatch.js';
export { flowTextOfOdp, isOdpFlow } from './odp-text.js';
export { FLOW_STAGES } from './stages.js';
export { formatFlow, flowMatch } from './format.js';
export {
  TUN_MD_SPACE_WORD, TUN_MD_PRESENT_WORD, fitTunMetadata, readTunMetadata, writeTunMetadata, tunMetadataLoc, tunMetadataPresent,
  setTunMetadataPresent, tunMetadataPresentMap, type TunMetadataLayout, type TunMetadataLoc,
} from './tun-metadata.js';
