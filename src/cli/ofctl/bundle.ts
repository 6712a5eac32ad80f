// Bundles as ovs-ofctl sends them (vconn_bundle_transact): OPEN, one
// BUNDLE_ADD per message (with the message's xid), a barrier, then COMMIT if
// no message failed, else DISCARD. Errors name the failing message.

import { OFPBCT, OFPBF, decodeMessage, errorBodyName, type ErrorBody, type OfMessage } from '../../openflow/index.js';
import { ErrnoError, fatal, run, type Io, type OfctlOptions } from './common.js';
import { ExitStatus, printMessage, xidOf, type Vconn } from './vconn.js';

function isError(b: Uint8Array): boolean {
  return b[1] === 1;
}

/** Receives until `xid`, keeping OFPT_ERRORs with other xids (vconn_recv_xid__ with an error list). */
async function recvXidKeepingErrors(v: Vconn, xid: number, errors: Uint8Array[]): Promise<Uint8Array> {
  for (;;) {
    const b = await v.recv();
    if (xidOf(b) === xid) return b;
    if (isError(b)) errors.push(b);
  }
}

async function control(v: Vconn, type: number, flags: number, errors: Uint8Array[]): Promise<boolean> {
  const xid = v.send({ version: v.version, kind: 'BUNDLE_CONTROL', body: { bundle_id: 0, type, flags, properties: [] } });
  const reply = await recvXidKeepingErrors(v, xid, errors);
  if (isError(reply)) {
    errors.push(reply);
    return false;
  }
  const m = decodeMessage(reply);
  return m.kind === 'BUNDLE_CONTROL' && m.body.bundle_id === 0 && m.body.type === type + 1;
}

/** Sends `requests` (encoded messages) as one ordered, atomic bundle; prints errors and fails as ovs-ofctl does. */
export async function bundleTransact(v: Vconn, requests: readonly Uint8Array[], o: OfctlOptions, io: Io): Promise<void> {
  if (v.version < 4) fatal(`${v.name}: bundles need OpenFlow 1.3 or later`);
  const flags = OFPBF.ORDERED | OFPBF.ATOMIC;
  const errors: Uint8Array[] = [];
  const transact = async (): Promise<boolean> => {
    if (!(await control(v, OFPBCT.OPEN_REQUEST, flags, errors))) return false;
    for (const r of requests) {
      const message = decodeMessage(r) as OfMessage;
      v.send({ version: v.version, xid: message.xid, kind: 'BUNDLE_ADD_MESSAGE', body: { bundle_id: 0, flags, message, properties: [] } });
    }
    const barrier = v.send({ version: v.version, kind: 'BARRIER_REQUEST', body: {} });
    await recvXidKeepingErrors(v, barrier, errors);
    if (errors.length) {
      await control(v, OFPBCT.DISCARD_REQUEST, flags, errors);
      return false;
    }
    return control(v, OFPBCT.COMMIT_REQUEST, flags, errors);
  };
  const ok = await run(transact(), `talking to ${v.name}`);
  for (const e of errors) {
    const m = decodeMessage(e);
    const name = m.kind === 'ERROR' ? errorBodyName(m.version, m.body as ErrorBody) : undefined;
    if (!name) {
      io.err('***decode error***');
      continue;
    }
    const failed = requests.find((r) => xidOf(r) === m.xid);
    const data = (m.body as { data?: Uint8Array }).data;
    io.err(`Error ${name} for: ` + printMessage(failed ?? data ?? new Uint8Array(0), o.verbosity + 1));
  }
  if (!ok) {
    io.err(`tsw-ofctl: talking to ${v.name} (${new ErrnoError('EPROTO').message})\n`);
    throw new ExitStatus(1);
  }
}
