// OpenFlow error identities and their (type, code) numbers per protocol version.
// Facts taken from the OpenFlow 1.0-1.5 specifications and OVS's ofp-errors.h
// annotations; the table below is data, one row per error.

/** Vendor tags in the mapping rows: NX = Nicira (0x00002320), ONF = ONF (0x4f4e4600). */
const NX = -1;
const ONF = -2;

/**
 * [fromVersion, toVersion, type, code] for a standard error, or
 * [fromVersion, toVersion, NX|ONF, type, code] for a vendor error in OF1.0/1.1
 * (NXET_VENDOR wrapping), or [fromVersion, toVersion, NX|ONF, expCode] for an
 * OF1.2+ experimenter error (type 0xffff).
 */
type Mapping = readonly number[];

const ERROR_ROWS = [
  ['OFPHFC_INCOMPATIBLE', [[1, 6, 0, 0]]],
  ['OFPHFC_EPERM', [[1, 6, 0, 1]]],
  ['OFPBRC_BAD_VERSION', [[1, 6, 1, 0]]],
  ['OFPBRC_BAD_TYPE', [[1, 6, 1, 1]]],
  ['OFPBRC_BAD_STAT', [[1, 6, 1, 2]]],
  ['OFPBRC_BAD_VENDOR', [[1, 6, 1, 3]]],
  ['OFPBRC_BAD_SUBTYPE', [[1, 6, 1, 4]]],
  ['OFPBRC_EPERM', [[1, 6, 1, 5]]],
  ['OFPBRC_BAD_LEN', [[1, 6, 1, 6]]],
  ['OFPBRC_BUFFER_EMPTY', [[1, 6, 1, 7]]],
  ['OFPBRC_BUFFER_UNKNOWN', [[1, 6, 1, 8]]],
  ['OFPBRC_BAD_TABLE_ID', [[1, 1, NX, 1, 512], [2, 6, 1, 9]]],
  ['OFPBRC_IS_SECONDARY', [[1, 2, 1, 5], [3, 6, 1, 10]]],
  ['OFPBRC_BAD_PORT', [[1, 2, NX, 1, 514], [3, 6, 1, 11]]],
  ['OFPBRC_BAD_PACKET', [[3, 6, 1, 12]]],
  ['OFPBRC_MULTIPART_BUFFER_OVERFLOW', [[4, 6, 1, 13]]],
  ['OFPBRC_MULTIPART_REQUEST_TIMEOUT', [[4, 4, ONF, 2640], [5, 6, 1, 14]]],
  ['OFPBRC_MULTIPART_REPLY_TIMEOUT', [[4, 4, ONF, 2641], [5, 6, 1, 15]]],
  ['OFPBRC_MULTIPART_BAD_SCHED', [[6, 6, 1, 16]]],
  ['OFPBRC_PIPELINE_FIELDS_ONLY', [[6, 6, 1, 17]]],
  ['OFPBRC_UNKNOWN', [[6, 6, 1, 18]]],
  ['NXBRC_NXM_INVALID', [[1, 2, NX, 1, 256], [3, 6, NX, 2]]],
  ['NXBRC_NXM_BAD_TYPE', [[1, 2, NX, 1, 257], [3, 6, NX, 3]]],
  ['NXBRC_MUST_BE_ZERO', [[1, 2, NX, 1, 515], [3, 6, NX, 4]]],
  ['NXBRC_BAD_REASON', [[1, 2, NX, 1, 516], [3, 6, NX, 5]]],
  ['NXBRC_FM_BAD_EVENT', [[1, 2, NX, 1, 520], [3, 6, NX, 9]]],
  ['NXBRC_UNENCODABLE_ERROR', [[1, 2, NX, 1, 521], [3, 6, NX, 10]]],
  ['OFPBAC_BAD_TYPE', [[1, 6, 2, 0]]],
  ['OFPBAC_BAD_LEN', [[1, 6, 2, 1]]],
  ['OFPBAC_BAD_VENDOR', [[1, 6, 2, 2]]],
  ['OFPBAC_BAD_VENDOR_TYPE', [[1, 6, 2, 3]]],
  ['OFPBAC_BAD_OUT_PORT', [[1, 6, 2, 4]]],
  ['OFPBAC_BAD_ARGUMENT', [[1, 6, 2, 5]]],
  ['OFPBAC_EPERM', [[1, 6, 2, 6]]],
  ['OFPBAC_TOO_MANY', [[1, 6, 2, 7]]],
  ['OFPBAC_BAD_QUEUE', [[1, 6, 2, 8]]],
  ['OFPBAC_BAD_OUT_GROUP', [[1, 1, NX, 2, 9], [2, 6, 2, 9]]],
  ['OFPBAC_MATCH_INCONSISTENT', [[1, 1, NX, 1, 522], [2, 6, 2, 10]]],
  ['OFPBAC_UNSUPPORTED_ORDER', [[2, 6, 2, 11]]],
  ['OFPBAC_BAD_TAG', [[2, 6, 2, 12]]],
  ['OFPBAC_BAD_SET_TYPE', [[1, 2, NX, 1, 523], [3, 6, 2, 13]]],
  ['OFPBAC_BAD_SET_LEN', [[1, 2, NX, 1, 524], [3, 6, 2, 14]]],
  ['OFPBAC_BAD_SET_ARGUMENT', [[1, 2, NX, 1, 525], [3, 6, 2, 15]]],
  ['OFPBAC_BAD_SET_MASK', [[4, 5, ONF, 4250], [6, 6, 2, 16]]],
  ['OFPBAC_BAD_METER', [[6, 6, 2, 17]]],
  ['NXBAC_MUST_BE_ZERO', [[1, 2, NX, 2, 256], [3, 6, NX, 11]]],
  ['NXBAC_BAD_CONJUNCTION', [[1, 2, NX, 2, 526], [3, 6, NX, 15]]],
  ['NXBAC_BAD_HEADER_TYPE', [[4, 6, NX, 39]]],
  ['NXBAC_UNKNOWN_ED_PROP', [[4, 6, NX, 40]]],
  ['NXBAC_BAD_ED_PROP', [[4, 6, NX, 41]]],
  ['NXBAC_CT_DATAPATH_SUPPORT', [[1, 2, NX, 1, 265], [3, 6, NX, 42]]],
  ['OFPBIC_UNKNOWN_INST', [[2, 6, 3, 0]]],
  ['OFPBIC_UNSUP_INST', [[1, 1, NX, 2, 257], [2, 6, 3, 1]]],
  ['OFPBIC_BAD_TABLE_ID', [[2, 6, 3, 2]]],
  ['OFPBIC_UNSUP_METADATA', [[2, 6, 3, 3]]],
  ['OFPBIC_UNSUP_METADATA_MASK', [[2, 6, 3, 4]]],
  ['OFPBIC_BAD_EXPERIMENTER', [[2, 6, 3, 5]]],
  ['OFPBIC_BAD_EXP_TYPE', [[2, 2, 3, 5], [3, 6, 3, 6]]],
  ['OFPBIC_BAD_LEN', [[3, 6, 3, 7]]],
  ['OFPBIC_EPERM', [[3, 6, 3, 8]]],
  ['OFPBIC_DUP_INST', [[2, 2, NX, 3, 256], [3, 4, ONF, 2600], [5, 6, 3, 9]]],
  ['OFPBMC_BAD_TYPE', [[2, 6, 4, 0]]],
  ['OFPBMC_BAD_LEN', [[2, 6, 4, 1]]],
  ['OFPBMC_BAD_TAG', [[2, 6, 4, 2]]],
  ['OFPBMC_BAD_DL_ADDR_MASK', [[2, 6, 4, 3]]],
  ['OFPBMC_BAD_NW_ADDR_MASK', [[2, 6, 4, 4]]],
  ['OFPBMC_BAD_WILDCARDS', [[1, 1, NX, 1, 262], [2, 6, 4, 5]]],
  ['OFPBMC_BAD_FIELD', [[1, 1, NX, 0, 263], [2, 6, 4, 6]]],
  ['OFPBMC_BAD_VALUE', [[1, 1, NX, 1, 258], [2, 6, 4, 7]]],
  ['OFPBMC_BAD_MASK', [[1, 2, NX, 1, 259], [3, 6, 4, 8]]],
  ['OFPBMC_BAD_PREREQ', [[1, 2, NX, 1, 260], [3, 6, 4, 9]]],
  ['OFPBMC_DUP_FIELD', [[1, 2, NX, 1, 261], [3, 6, 4, 10]]],
  ['OFPBMC_EPERM', [[3, 6, 4, 11]]],
  ['NXBMC_CT_DATAPATH_SUPPORT', [[1, 2, NX, 1, 264], [3, 6, NX, 43]]],
  ['OFPFMFC_UNKNOWN', [[2, 6, 5, 0]]],
  ['OFPFMFC_TABLE_FULL', [[1, 1, 3, 0], [2, 6, 5, 1]]],
  ['OFPFMFC_BAD_TABLE_ID', [[2, 6, 5, 2]]],
  ['OFPFMFC_OVERLAP', [[1, 1, 3, 1], [2, 6, 5, 3]]],
  ['OFPFMFC_EPERM', [[1, 1, 3, 2], [2, 6, 5, 4]]],
  ['OFPFMFC_BAD_TIMEOUT', [[2, 6, 5, 5]]],
  ['OFPFMFC_BAD_EMERG_TIMEOUT', [[1, 1, 3, 3]]],
  ['OFPFMFC_BAD_COMMAND', [[1, 1, 3, 4], [2, 6, 5, 6]]],
  ['OFPFMFC_BAD_FLAGS', [[1, 1, NX, 3, 258], [2, 2, NX, 5, 258], [3, 6, 5, 7]]],
  ['OFPFMFC_CANT_SYNC', [[5, 6, 5, 8]]],
  ['OFPFMFC_BAD_PRIORITY', [[4, 4, ONF, 2360], [5, 6, 5, 9]]],
  ['OFPFMFC_IS_SYNC', [[5, 6, 5, 10]]],
  ['OFPFMFC_UNSUPPORTED', [[1, 1, 3, 5]]],
  ['NXFMFC_HARDWARE', [[1, 2, NX, 5, 256], [3, 6, NX, 12]]],
  ['NXFMFC_BAD_TABLE_ID', [[1, 2, NX, 5, 257], [3, 6, NX, 13]]],
  ['NXFMFC_INVALID_TLV_FIELD', [[1, 2, NX, 1, 536], [3, 6, NX, 37]]],
  ['OFPGMFC_GROUP_EXISTS', [[1, 1, NX, 6, 0], [2, 6, 6, 0]]],
  ['OFPGMFC_INVALID_GROUP', [[1, 1, NX, 6, 1], [2, 6, 6, 1]]],
  ['OFPGMFC_WEIGHT_UNSUPPORTED', [[1, 1, NX, 6, 2], [2, 6, 6, 2]]],
  ['OFPGMFC_OUT_OF_GROUPS', [[1, 1, NX, 6, 3], [2, 6, 6, 3]]],
  ['OFPGMFC_OUT_OF_BUCKETS', [[1, 1, NX, 6, 4], [2, 6, 6, 4]]],
  ['OFPGMFC_CHAINING_UNSUPPORTED', [[1, 1, NX, 6, 5], [2, 6, 6, 5]]],
  ['OFPGMFC_WATCH_UNSUPPORTED', [[1, 1, NX, 6, 6], [2, 6, 6, 6]]],
  ['OFPGMFC_LOOP', [[1, 1, NX, 6, 7], [2, 6, 6, 7]]],
  ['OFPGMFC_UNKNOWN_GROUP', [[1, 1, NX, 6, 8], [2, 6, 6, 8]]],
  ['OFPGMFC_CHAINED_GROUP', [[1, 1, NX, 6, 9], [3, 6, 6, 9]]],
  ['OFPGMFC_BAD_TYPE', [[1, 1, NX, 6, 10], [3, 6, 6, 10]]],
  ['OFPGMFC_BAD_COMMAND', [[1, 1, NX, 6, 11], [3, 6, 6, 11]]],
  ['OFPGMFC_BAD_BUCKET', [[1, 1, NX, 6, 12], [3, 6, 6, 12]]],
  ['OFPGMFC_BAD_WATCH', [[1, 1, NX, 6, 13], [3, 6, 6, 13]]],
  ['OFPGMFC_EPERM', [[1, 1, NX, 6, 14], [3, 6, 6, 14]]],
  ['OFPGMFC_UNKNOWN_BUCKET', [[1, 1, NX, 6, 15], [6, 6, 6, 15]]],
  ['OFPGMFC_BUCKET_EXISTS', [[1, 1, NX, 6, 16], [6, 6, 6, 16]]],
  ['OFPPMFC_BAD_PORT', [[1, 1, 4, 0], [2, 6, 7, 0]]],
  ['OFPPMFC_BAD_HW_ADDR', [[1, 1, 4, 1], [2, 6, 7, 1]]],
  ['OFPPMFC_BAD_CONFIG', [[2, 6, 7, 2]]],
  ['OFPPMFC_BAD_ADVERTISE', [[2, 6, 7, 3]]],
  ['OFPPMFC_EPERM', [[3, 6, 7, 4]]],
  ['OFPTMFC_BAD_TABLE', [[2, 6, 8, 0]]],
  ['OFPTMFC_BAD_CONFIG', [[2, 6, 8, 1]]],
  ['OFPTMFC_EPERM', [[3, 6, 8, 2]]],
  ['OFPQOFC_BAD_PORT', [[1, 1, 5, 0], [2, 6, 9, 0]]],
  ['OFPQOFC_BAD_QUEUE', [[1, 1, 5, 1], [2, 6, 9, 1]]],
  ['OFPQOFC_EPERM', [[1, 1, 5, 2], [2, 6, 9, 2]]],
  ['NXQOFC_QUEUE_ERROR', [[5, 6, NX, 23]]],
  ['OFPSCFC_BAD_FLAGS', [[2, 6, 10, 0]]],
  ['OFPSCFC_BAD_LEN', [[2, 6, 10, 1]]],
  ['OFPSCFC_EPERM', [[3, 6, 10, 2]]],
  ['OFPRRFC_STALE', [[3, 6, 11, 0]]],
  ['OFPRRFC_UNSUP', [[3, 6, 11, 1]]],
  ['OFPRRFC_BAD_ROLE', [[1, 2, NX, 1, 513], [3, 6, 11, 2]]],
  ['OFPRRFC_ID_UNSUP', [[6, 6, 11, 3]]],
  ['OFPRRFC_ID_IN_USE', [[6, 6, 11, 4]]],
  ['OFPMMFC_UNKNOWN', [[4, 6, 12, 0]]],
  ['OFPMMFC_METER_EXISTS', [[4, 6, 12, 1]]],
  ['OFPMMFC_INVALID_METER', [[4, 6, 12, 2]]],
  ['OFPMMFC_UNKNOWN_METER', [[4, 6, 12, 3]]],
  ['OFPMMFC_BAD_COMMAND', [[4, 6, 12, 4]]],
  ['OFPMMFC_BAD_FLAGS', [[4, 6, 12, 5]]],
  ['OFPMMFC_BAD_RATE', [[4, 6, 12, 6]]],
  ['OFPMMFC_BAD_BURST', [[4, 6, 12, 7]]],
  ['OFPMMFC_BAD_BAND', [[4, 6, 12, 8]]],
  ['OFPMMFC_BAD_BAND_VALUE', [[4, 6, 12, 9]]],
  ['OFPMMFC_OUT_OF_METERS', [[4, 6, 12, 10]]],
  ['OFPMMFC_OUT_OF_BANDS', [[4, 6, 12, 11]]],
  ['OFPTFFC_BAD_TABLE', [[4, 6, 13, 0]]],
  ['OFPTFFC_BAD_METADATA', [[4, 6, 13, 1]]],
  ['OFPTFFC_EPERM', [[4, 6, 13, 5]]],
  ['OFPTFFC_BAD_CAPA', [[6, 6, 13, 6]]],
  ['OFPTFFC_BAD_MAX_ENT', [[6, 6, 13, 7]]],
  ['OFPTFFC_BAD_FEATURES', [[6, 6, 13, 8]]],
  ['OFPTFFC_BAD_COMMAND', [[6, 6, 13, 9]]],
  ['OFPTFFC_TOO_MANY', [[6, 6, 13, 10]]],
  ['NXTFFC_DUP_TABLE', [[4, 6, NX, 44]]],
  ['OFPBPC_BAD_TYPE', [[1, 2, NX, 13, 2], [3, 3, NX, 25], [4, 4, 13, 2], [5, 6, 14, 0]]],
  ['OFPBPC_BAD_LEN', [[1, 2, NX, 13, 3], [3, 3, NX, 26], [4, 4, 13, 3], [5, 6, 14, 1]]],
  ['OFPBPC_BAD_VALUE', [[1, 2, NX, 13, 4], [3, 3, NX, 27], [4, 4, 13, 4], [5, 6, 14, 2]]],
  ['OFPBPC_TOO_MANY', [[1, 2, NX, 14, 3], [3, 3, NX, 28], [4, 4, ONF, 4443], [5, 6, 14, 3]]],
  ['OFPBPC_DUP_TYPE', [[1, 2, NX, 14, 4], [3, 3, NX, 29], [4, 4, ONF, 4444], [5, 6, 14, 4]]],
  ['OFPBPC_BAD_EXPERIMENTER', [[1, 2, NX, 14, 5], [3, 3, NX, 30], [4, 4, ONF, 4445], [5, 6, 14, 5]]],
  ['OFPBPC_BAD_EXP_TYPE', [[1, 2, NX, 14, 6], [3, 3, NX, 31], [4, 4, ONF, 4446], [5, 6, 14, 6]]],
  ['OFPBPC_BAD_EXP_VALUE', [[1, 2, NX, 14, 7], [3, 3, NX, 32], [4, 4, ONF, 4447], [5, 6, 14, 7]]],
  ['OFPBPC_EPERM', [[1, 2, NX, 14, 8], [3, 3, NX, 33], [4, 4, ONF, 4448], [5, 6, 14, 8]]],
  ['OFPACFC_INVALID', [[4, 4, ONF, 2370], [5, 6, 15, 0]]],
  ['OFPACFC_UNSUPPORTED', [[4, 4, ONF, 2371], [5, 6, 15, 1]]],
  ['OFPACFC_EPERM', [[4, 4, ONF, 2372], [5, 6, 15, 2]]],
  ['OFPBFC_UNKNOWN', [[4, 4, ONF, 2300], [5, 6, 17, 0]]],
  ['OFPBFC_EPERM', [[4, 4, ONF, 2301], [5, 6, 17, 1]]],
  ['OFPBFC_BAD_ID', [[4, 4, ONF, 2302], [5, 6, 17, 2]]],
  ['OFPBFC_BUNDLE_EXIST', [[4, 4, ONF, 2303], [5, 6, 17, 3]]],
  ['OFPBFC_BUNDLE_CLOSED', [[4, 4, ONF, 2304], [5, 6, 17, 4]]],
  ['OFPBFC_OUT_OF_BUNDLES', [[4, 4, ONF, 2305], [5, 6, 17, 5]]],
  ['OFPBFC_BAD_TYPE', [[4, 4, ONF, 2306], [5, 6, 17, 6]]],
  ['OFPBFC_BAD_FLAGS', [[4, 4, ONF, 2307], [5, 6, 17, 7]]],
  ['OFPBFC_MSG_BAD_LEN', [[4, 4, ONF, 2308], [5, 6, 17, 8]]],
  ['OFPBFC_MSG_BAD_XID', [[4, 4, ONF, 2309], [5, 6, 17, 9]]],
  ['OFPBFC_MSG_UNSUP', [[4, 4, ONF, 2310], [5, 6, 17, 10]]],
  ['OFPBFC_MSG_CONFLICT', [[4, 4, ONF, 2311], [5, 6, 17, 11]]],
  ['OFPBFC_MSG_TOO_MANY', [[4, 4, ONF, 2312], [5, 6, 17, 12]]],
  ['OFPBFC_MSG_FAILED', [[4, 4, ONF, 2313], [5, 6, 17, 13]]],
  ['OFPBFC_TIMEOUT', [[4, 4, ONF, 2314], [5, 6, 17, 14]]],
  ['OFPBFC_BUNDLE_IN_PROGRESS', [[4, 4, ONF, 2315], [5, 6, 17, 15]]],
  ['OFPBFC_SCHED_NOT_SUPPORTED', [[6, 6, 17, 16]]],
  ['OFPBFC_SCHED_FUTURE', [[6, 6, 17, 17]]],
  ['OFPBFC_SCHED_PAST', [[6, 6, 17, 18]]],
  ['OFPBFC_BAD_VERSION', [[5, 6, NX, 22]]],
  ['OFPMOFC_UNKNOWN', [[5, 6, 16, 0]]],
  ['OFPMOFC_MONITOR_EXISTS', [[1, 2, NX, 1, 517], [3, 4, NX, 6], [5, 6, 16, 1]]],
  ['OFPMOFC_INVALID_MONITOR', [[5, 6, 16, 2]]],
  ['OFPMOFC_UNKNOWN_MONITOR', [[1, 2, NX, 1, 519], [3, 4, NX, 8], [5, 6, 16, 3]]],
  ['OFPMOFC_BAD_COMMAND', [[5, 6, 16, 4]]],
  ['OFPMOFC_BAD_FLAGS', [[1, 2, NX, 1, 518], [3, 4, NX, 7], [5, 6, 16, 5]]],
  ['OFPMOFC_BAD_TABLE_ID', [[5, 6, 16, 6]]],
  ['OFPMOFC_BAD_OUT', [[5, 6, 16, 7]]],
  ['NXTTMFC_BAD_COMMAND', [[1, 2, NX, 1, 527], [3, 6, NX, 16]]],
  ['NXTTMFC_BAD_OPT_LEN', [[1, 2, NX, 1, 528], [3, 6, NX, 17]]],
  ['NXTTMFC_BAD_FIELD_IDX', [[1, 2, NX, 1, 529], [3, 6, NX, 18]]],
  ['NXTTMFC_TABLE_FULL', [[1, 2, NX, 1, 530], [3, 6, NX, 19]]],
  ['NXTTMFC_ALREADY_MAPPED', [[1, 2, NX, 1, 531], [3, 6, NX, 20]]],
  ['NXTTMFC_DUP_ENTRY', [[1, 2, NX, 1, 532], [3, 6, NX, 21]]],
  ['NXTTMFC_INVALID_TLV_DEL', [[1, 2, NX, 1, 537], [3, 6, NX, 38]]],
  ['NXR_NOT_SUPPORTED', [[1, 2, NX, 1, 533], [3, 6, NX, 34]]],
  ['NXR_STALE', [[1, 2, NX, 1, 534], [3, 6, NX, 35]]],
  ['NXST_NOT_CONFIGURED', [[1, 2, NX, 1, 535], [3, 6, NX, 36]]],
] as const satisfies ReadonlyArray<readonly [string, readonly Mapping[]]>;

/** Symbolic OpenFlow error names, as OVS spells them without the OFPERR_ prefix. */
export type OfErrorName = (typeof ERROR_ROWS)[number][0];

export const OFPET_EXPERIMENTER = 0xffff;
/** OF1.0/1.1 Nicira vendor-error wrapper type (nx_vendor_error follows in data). */
export const NXET_VENDOR = 0xb0c2;
export const NX_VENDOR_ID = 0x00002320;
export const ONF_VENDOR_ID = 0x4f4e4600;

/** How one error looks on the wire in one version. */
export type ErrorWire =
  | { readonly kind: 'standard'; readonly type: number; readonly code: number }
  /** OF1.0/1.1: type NXET_VENDOR, code 0, data starts with vendor id, type, code. */
  | { readonly kind: 'vendor'; readonly vendor: number; readonly type: number; readonly code: number }
  /** OF1.2+: type 0xffff, exp_code, experimenter id. */
  | { readonly kind: 'experimenter'; readonly experimenter: number; readonly expCode: number };

const byName = new Map<string, readonly Mapping[]>();
for (const [name, maps] of ERROR_ROWS) byName.set(name, maps);

function vendorId(tag: number): number {
  return tag === NX ? NX_VENDOR_ID : ONF_VENDOR_ID;
}

/** The wire form of `name` in `version`, or undefined when that version cannot say it. */
export function errorWire(name: OfErrorName, version: number): ErrorWire | undefined {
  for (const m of byName.get(name) ?? []) {
    if (version < m[0] || version > m[1]) continue;
    if (m[2] >= 0) return { kind: 'standard', type: m[2], code: m[3] };
    if (m.length === 5) return { kind: 'vendor', vendor: vendorId(m[2]), type: m[3], code: m[4] };
    return { kind: 'experimenter', experimenter: vendorId(m[2]), expCode: m[3] };
  }
  return undefined;
}

function wireKey(version: number, w: ErrorWire): string {
  switch (w.kind) {
    case 'standard': return `${version}:s:${w.type}:${w.code}`;
    case 'vendor': return `${version}:v:${w.vendor}:${w.type}:${w.code}`;
    case 'experimenter': return `${version}:e:${w.experimenter}:${w.expCode}`;
  }
}

let reverse: Map<string, OfErrorName> | undefined;

/** The symbolic name of a wire error in `version`, or undefined when unknown. */
export function errorName(version: number, w: ErrorWire): OfErrorName | undefined {
  if (!reverse) {
    reverse = new Map();
    for (const [name] of ERROR_ROWS) {
      for (let v = 1; v <= 6; v++) {
        const ew = errorWire(name, v);
        // The first name listed wins where two share numbers (OF1.0 (1,5)).
        if (ew && !reverse.has(wireKey(v, ew))) reverse.set(wireKey(v, ew), name);
      }
    }
  }
  return reverse.get(wireKey(version, w));
}

/** Every error name in the table (for tests and tools). */
export function allErrorNames(): OfErrorName[] {
  return ERROR_ROWS.map((r) => r[0]);
}

/**
 * The one error type of this library. `error` is the OpenFlow error identity;
 * `wire(version)` gives the numbers an OFPT_ERROR carries for it.
 */
export class OfError extends Error {
  override readonly name = 'OfError';
  constructor(readonly error: OfErrorName, detail?: string) {
    super(detail ? `${error}: ${detail}` : error);
  }

  /** The wire numbers in `version`; errors a version cannot express become NXBRC_UNENCODABLE_ERROR, as in OVS. */
  wire(version: number): ErrorWire {
    return errorWire(this.error, version) ?? (errorWire('NXBRC_UNENCODABLE_ERROR', version) as ErrorWire);
  }

  /** OpenFlow error type number in `version` (default OF1.3). */
  type(version = 4): number {
    const w = this.wire(version);
    return w.kind === 'standard' ? w.type : w.kind === 'vendor' ? NXET_VENDOR : OFPET_EXPERIMENTER;
  }

  /** OpenFlow error code number in `version` (default OF1.3). */
  code(version = 4): number {
    const w = this.wire(version);
    return w.kind === 'standard' ? w.code : w.kind === 'vendor' ? 0 : w.expCode;
  }
}
