// tsw-ofctl's Geneve TLV mapping commands, as ovs-ofctl has them:
// add-tlv-map SWITCH MAP, del-tlv-map SWITCH [MAP] (no MAP clears the table),
// dump-tlv-map SWITCH. MAP is "{class=C,type=T,len=L}->tun_metadataN[,...]".

import { NXTTMC, parseTlvMappings, tlvMappingsProblem, type TlvMap, type TlvTableCommand } from '../../openflow/index.js';
import { P, P_ANY_OXM, run, type Io, type OfctlOptions } from './common.js';
import type { OnlineHandler } from './cmds-info.js';
import { openForFlowMod, syntax } from './cmds-flows.js';
import { ExitStatus, dumpTransaction, openVconn, printMessage, vlogWarn } from './vconn.js';

/** OFPUTIL_P_NXM_OXM_ANY: the table mod is a Nicira message, sent once the connection speaks NXM or OXM. */
const P_NXM_OXM_ANY = P.OF10_NXM | P.OF10_NXM_TID | P_ANY_OXM;

async function tlvMod(target: string, command: TlvTableCommand, text: string, o: OfctlOptions, io: Io): Promise<void> {
  const maps: TlvMap[] = syntax(() => parseTlvMappings(text));
  const { v } = await openForFlowMod(target, P_NXM_OXM_ANY, o, io);
  try {
    const reply = await run(v.transactNoReply({ version: v.version, kind: 'NXT_TLV_TABLE_MOD', body: { command, maps } }), `talking to ${v.name}`);
    if (reply) {
      // Printing the refused request decodes it again, and OVS's decoder warns about what it cannot read.
      const bad = tlvMappingsProblem(maps);
      if (bad) vlogWarn(io, 'ofp_match', bad.warning);
      io.err(printMessage(reply, o.verbosity + 2));
      throw new ExitStatus(1);
    }
  } finally {
    v.close();
  }
}

const addTlvMap: OnlineHandler = ([target, text], o, io) => tlvMod(target, NXTTMC.ADD, text, o, io);

const delTlvMap: OnlineHandler = ([target, text], o, io) =>
  text === undefined ? tlvMod(target, NXTTMC.CLEAR, '', o, io) : tlvMod(target, NXTTMC.DELETE, text, o, io);

const dumpTlvMap: OnlineHandler = async ([target], o, io) => {
  const v = await openVconn(target, o, io);
  try {
    await dumpTransaction(v, { version: v.version, kind: 'NXT_TLV_TABLE_REQUEST', body: {} }, o, io);
  } finally {
    v.close();
  }
};

export const TLV_COMMANDS: Record<string, { min: number; max: number; online: OnlineHandler }> = {
  'add-tlv-map': { min: 2, max: 2, online: addTlvMap },
  'del-tlv-map': { min: 1, max: 2, online: delTlvMap },
  'dump-tlv-map': { min: 1, max: 1, online: dumpTlvMap },
};
