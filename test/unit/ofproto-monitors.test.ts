// Flow monitors inside one switch (no sockets): a fake connection registers
// monitors the way a controller's request would arrive, flows change, and
// the updates it is sent are checked: abbreviation of its own changes,
// refusal of bad requests, cancel, and pause/resume for a connection that
// stops reading. (What ovs-ofctl prints is compared with OVS in
// test/interop/flow-monitor.test.ts.)

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  OfError, decodeMessage, encodeMessage, flowModMessage, parseFlow, type FlowCommand, type MessageOf, type OfMessage,
} from '../../src/openflow/index.js';
import { Ofproto, decodeFlowMod } from '../../src/ofproto/index.js';
import type { OfConn } from '../../src/ofproto/ofconn.js';

function newSwitch(): Ofproto {
  return new Ofproto({ name: 'br0', datapathId: 1n, rundir: mkdtempSync(join(tmpdir(), 'tsw-mon-')) });
}

/** A connection that records what it is sent; `backlog` plays the bytes the peer has not read. */
class FakeConn implements OfConn {
  readonly type = 'primary' as const;
  readonly role = 'equal' as const;
  readonly flowFormat = 'oxm' as const;
  readonly flowModTableId = false;
  readonly missSendLen = 128;
  readonly controllerId = 0;
  readonly packetInFormat = 'standard' as const;
  readonly sent: OfMessage[] = [];
  backlog = 0;
  constructor(readonly version: number, readonly name = 'fake') {}
  send(msg: OfMessage): void {
    // Round-trip through the codec: what is sent must encode.
    this.sent.push(decodeMessage(encodeMessage(msg)));
  }
  sendError(err: OfError): void {
    throw err;
  }
  unsentBytes(): number {
    return this.backlog;
  }
  /** Flow update entries sent since the last call, as [event, xid-or-priority] pairs. */
  take(): Array<Record<string, unknown>> {
    const out: Array<Record<string, unknown>> = [];
    for (const m of this.sent.splice(0)) {
      if (m.kind === 'MULTIPART_REPLY') out.push(...(m.body.body as { entries: Array<Record<string, unknown>> }).entries);
      else out.push({ kind: m.kind });
    }
    return out;
  }
}

function mod(of: Ofproto, conn: OfConn | null, text: string, command: FlowCommand = 'add', xid = 0): void {
  const wire = decodeMessage(encodeMessage(flowModMessage(parseFlow(text, command), 'OpenFlow14'))) as MessageOf<'FLOW_MOD'>;
  of.flowMod(decodeFlowMod(wire, false), conn, xid);
  of.monitors.flush();
}

function monitorRequest(of: Ofproto, conn: FakeConn, fields: { id: number; flags: number; command?: number; table_id?: number; out_port?: number }, xid = 7): void {
  const msg = {
    version: 5, xid, kind: 'MULTIPART_REQUEST',
    body: {
      stat: 'FLOW_MONITOR', flags: 0,
      body: {
        monitor_id: fields.id, out_port: fields.out_port ?? 0xffffffff, out_group: 0xffffffff, flags: fields.flags,
        table_id: fields.table_id ?? 0xff, command: fields.command ?? 0, match: {},
      },
    },
  } as unknown as OfMessage;
  of.handleMessage(conn, decodeMessage(encodeMessage(msg)), new Uint8Array());
}

// OFPFMF_*: INITIAL 1, ADD 2, REMOVED 4, MODIFY 8, INSTRUCTIONS 16, ONLY_OWN 64.
const ALL = 1 | 2 | 4 | 8 | 16;

describe('flow monitors', () => {
  it("a connection's own changes reach it abbreviated (once per flow_mod), other connections' in full", () => {
    const of = newSwitch();
    const a = new FakeConn(5, 'a');
    const b = new FakeConn(5, 'b');
    monitorRequest(of, a, { id: 1, flags: ALL });
    monitorRequest(of, b, { id: 1, flags: ALL });
    a.take();
    b.take();
    mod(of, a, 'priority=5,ip,actions=output:1', 'add', 0x42);
    mod(of, a, 'priority=6,arp,actions=output:1', 'add', 0x43);
    mod(of, a, 'actions=output:2', 'modify', 0x44);
    assert.deepEqual(a.take(), [{ event: 4, xid: 0x42 }, { event: 4, xid: 0x43 }, { event: 4, xid: 0x44 }]);
    const seen = b.take().map((u) => [u.event as number, u.priority as number]);
    assert.deepEqual(seen.slice(0, 2), [[1, 5], [1, 6]]);
    assert.deepEqual(seen.slice(2).sort((x, y) => x[1]! - y[1]!), [[3, 5], [3, 6]]);
  });

  it('ONLY_OWN sends a connection its own changes in full', () => {
    const of = newSwitch();
    const a = new FakeConn(5);
    monitorRequest(of, a, { id: 1, flags: ALL | 64 });
    a.take();
    mod(of, a, 'priority=5,ip,actions=output:1');
    assert.deepEqual(a.take().map((u) => [u.event, u.priority]), [[1, 5]]);
  });

  it('refuses a duplicate id, an unknown id to modify or delete, bad flags and a bad table, keeping the other monitors', () => {
    const of = newSwitch();
    const a = new FakeConn(5);
    monitorRequest(of, a, { id: 1, flags: ALL });
    const code = (f: () => void): string => {
      try {
        f();
      } catch (e) {
        return e instanceof OfError ? e.error : String(e);
      }
      return 'accepted';
    };
    assert.equal(code(() => monitorRequest(of, a, { id: 1, flags: ALL })), 'OFPMOFC_MONITOR_EXISTS');
    assert.equal(code(() => monitorRequest(of, a, { id: 9, flags: ALL, command: 1 })), 'OFPMOFC_UNKNOWN_MONITOR');
    assert.equal(code(() => monitorRequest(of, a, { id: 9, flags: 0, command: 2 })), 'OFPMOFC_UNKNOWN_MONITOR');
    assert.equal(code(() => monitorRequest(of, a, { id: 2, flags: 1 })), 'OFPMOFC_BAD_FLAGS');
    assert.equal(code(() => monitorRequest(of, a, { id: 2, flags: ALL | 0x100 })), 'OFPMOFC_BAD_FLAGS');
    a.take();
    mod(of, null, 'priority=5,ip,actions=output:1');
    assert.equal(a.take().length, 1, 'monitor 1 still reports');
    monitorRequest(of, a, { id: 1, flags: 0, command: 2 });
    a.take();
    mod(of, null, 'priority=6,ip,actions=output:1');
    assert.deepEqual(a.take(), [], 'deleted monitor is silent');
  });

  it('a connection that stops reading is paused, then resumed with what changed meanwhile', async () => {
    const of = newSwitch();
    const a = new FakeConn(5);
    monitorRequest(of, a, { id: 1, flags: ALL });
    a.take();
    mod(of, null, 'priority=1,ip,actions=output:1');
    a.backlog = 200 * 1024;
    mod(of, null, 'priority=2,ip,actions=output:1');
    // The update that found the backlog still went out, followed by PAUSED.
    assert.deepEqual(a.take().map((u) => u.event), [1, 1, 5]);
    mod(of, null, 'priority=3,ip,actions=output:1');
    mod(of, null, 'priority=1,ip', 'delete_strict');
    mod(of, null, 'priority=3,ip', 'delete_strict');
    // While paused: only removals of flows added before the pause.
    assert.deepEqual(a.take().map((u) => [u.event, u.priority]), [[2, 1]]);
    mod(of, null, 'priority=4,ip,actions=output:1');
    a.backlog = 0;
    await new Promise((r) => setTimeout(r, 150));
    // Resumed: the flows added while paused that still exist, then RESUMED.
    assert.deepEqual(a.take().map((u) => [u.event, u.priority ?? null]), [[1, 4], [6, null]]);
    mod(of, null, 'priority=5,ip,actions=output:1');
    assert.deepEqual(a.take().map((u) => [u.event, u.priority]), [[1, 5]]);
    of.monitors.close();
  });

  it('OF1.0 connections get Nicira updates and NXT_FLOW_MONITOR_CANCEL removes a monitor', () => {
    const of = newSwitch();
    const a = new FakeConn(1);
    const req = {
      version: 1, xid: 3, kind: 'MULTIPART_REQUEST',
      body: { stat: 'NX_FLOW_MONITOR', flags: 0, body: { body: { id: 5, flags: 2 | 4 | 8 | 16, out_port: 0xffff, table_id: 0xff, match: {} } } },
    } as unknown as OfMessage;
    of.handleMessage(a, decodeMessage(encodeMessage(req)), new Uint8Array());
    assert.deepEqual(a.take(), [], 'no initial flows asked for');
    mod(of, null, 'priority=5,ip,actions=output:1');
    const [u] = a.take();
    assert.equal(u?.event, 0);
    assert.equal(u?.priority, 5);
    of.handleMessage(a, decodeMessage(encodeMessage({ version: 1, xid: 4, kind: 'NXT_FLOW_MONITOR_CANCEL', body: { id: 5 } } as OfMessage)), new Uint8Array());
    mod(of, null, 'priority=6,ip,actions=output:1');
    assert.deepEqual(a.take(), []);
    assert.throws(
      () => of.handleMessage(a, decodeMessage(encodeMessage({ version: 1, xid: 4, kind: 'NXT_FLOW_MONITOR_CANCEL', body: { id: 5 } } as OfMessage)), new Uint8Array()),
      (e: OfError) => e.error === 'OFPMOFC_UNKNOWN_MONITOR',
    );
  });
});
