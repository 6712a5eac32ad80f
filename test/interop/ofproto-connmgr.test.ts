// The connection manager against the real ovs-ofctl 3.1: `show` in OF1.0
// and OF1.3 over br0.mgmt (a fake core answers FEATURES and PORT_DESC),
// version negotiation failure, `monitor` printing our packet-ins in each
// format, and `snoop` refused without a controller and mirroring one.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  OfError, OfFramer, decodeMessage, encodeMessage, makeHello, type OfMessage,
} from '../../src/openflow/index.js';
import { Connmgr, type OfConn, type OfprotoHooks, type PacketInInfo } from '../../src/ofproto/connmgr.js';

const haveOfctl = spawnSync('ovs-ofctl', ['--version']).status === 0;
const skip = haveOfctl ? false : 'ovs-ofctl is not installed';

const PORT = { port_no: 1, hw_addr: 'aa:bb:cc:00:00:01', name: 'p1', config: 0, state: 0, curr: 0, advertised: 0, supported: 0, peer: 0 };

class FakeCore implements OfprotoHooks {
  handleMessage(conn: OfConn, msg: OfMessage): void {
    const { version, xid } = msg;
    if (msg.kind === 'FEATURES_REQUEST') {
      conn.send({ version, xid, kind: 'FEATURES_REPLY', body: version === 1
        ? { datapath_id: 0xabcn, n_buffers: 0, n_tables: 254, capabilities: 0xc7, actions: 0xfff, ports: [PORT] }
        : { datapath_id: 0xabcn, n_buffers: 0, n_tables: 254, auxiliary_id: 0, capabilities: 0x4f, reserved: 0 } } as OfMessage);
    } else if (msg.kind === 'MULTIPART_REQUEST' && msg.body.stat === 'PORT_DESC') {
      conn.send({ version, xid, kind: 'MULTIPART_REPLY', body: { stat: 'PORT_DESC', flags: 0, body: { entries: [
        { ...PORT, curr_speed: 0, max_speed: 0 }] } } } as OfMessage);
    } else if (msg.kind === 'BARRIER_REQUEST') {
      conn.send({ version, xid, kind: 'BARRIER_REPLY', body: {} });
    } else {
      throw new OfError('OFPBRC_BAD_TYPE', msg.kind);
    }
  }
  connectionClosed(): void {}
  failOpenChanged(): void {}
}

let env: NodeJS.ProcessEnv = process.env;

/** Runs ovs-ofctl to completion without blocking the event loop (the switch lives in this process). */
function ofctl(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn('ovs-ofctl', args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => stop(p), 10_000);
    p.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    p.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    p.on('close', (status) => { clearTimeout(timer); resolve({ status, stdout, stderr }); });
  });
}

/** Runs a long-lived ovs-ofctl (monitor, snoop) and collects its output. */
function background(args: string[]): { proc: ChildProcess; out: () => string; waitFor(re: RegExp, ms?: number): Promise<string> } {
  const proc = spawn('ovs-ofctl', args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
  proc.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
  return {
    proc,
    out: () => out,
    waitFor: async (re, ms = 5000) => {
      const end = Date.now() + ms;
      while (!re.test(out)) {
        if (Date.now() > end) throw new Error(`ovs-ofctl ${args.join(' ')}: no ${re} in:\n${out}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      return out;
    },
  };
}

function stop(p: ChildProcess): void {
  if (!p.pid || p.exitCode !== null || p.signalCode !== null) return;
  try {
    process.kill(p.pid, 'SIGTERM');
  } catch {
    // Already gone.
  }
}

function pin(over: Partial<PacketInInfo> = {}): PacketInInfo {
  const frame = new Uint8Array(60);
  frame.set([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0, 1, 0x08, 0x06]);
  return { reason: 'action', tableId: 3, cookie: 0x1234n, metadata: { in_port: { value: 5n } }, frame, maxLen: 0xffff, controllerId: 0, ...over };
}

describe('connmgr with the real ovs-ofctl', { skip }, () => {
  let dir: string;
  let mgr: Connmgr;
  const procs: ChildProcess[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tsw-connmgr-ofctl-'));
    // monitor and snoop open a unixctl socket in the run directory.
    env = { ...process.env, OVS_RUNDIR: dir };
    mgr = new Connmgr({ bridge: 'br0', rundir: dir, hooks: new FakeCore(), datapathId: () => 0xabcn });
    await mgr.start();
  });

  after(async () => {
    for (const p of procs) stop(p);
    await mgr.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('ovs-ofctl show works in OpenFlow 1.0 and 1.3', async () => {
    const r10 = await ofctl(['show', `unix:${mgr.mgmtPath}`]);
    assert.equal(r10.status, 0, r10.stderr);
    assert.match(r10.stdout, /OFPT_FEATURES_REPLY \(xid=0x\w+\): dpid:0000000000000abc/);
    assert.match(r10.stdout, / 1\(p1\): addr:aa:bb:cc:00:00:01/);
    assert.match(r10.stdout, /OFPT_GET_CONFIG_REPLY \(xid=0x\w+\): frags=normal miss_send_len=0/);
    const r13 = await ofctl(['-O', 'OpenFlow13', 'show', `unix:${mgr.mgmtPath}`]);
    assert.equal(r13.status, 0, r13.stderr);
    assert.match(r13.stdout, /OFPT_FEATURES_REPLY \(OF1\.3\) \(xid=0x\w+\): dpid:0000000000000abc/);
    assert.match(r13.stdout, / 1\(p1\): addr:aa:bb:cc:00:00:01/);
    assert.match(r13.stdout, /OFPT_GET_CONFIG_REPLY \(OF1\.3\) \(xid=0x\w+\): frags=normal miss_send_len=0/);
  });

  it('ovs-ofctl reports the failed negotiation when the bridge allows only OpenFlow 1.0', async () => {
    mgr.setAllowedVersions(1 << 1);
    const r = await ofctl(['-O', 'OpenFlow13', 'show', `unix:${mgr.mgmtPath}`]);
    mgr.setAllowedVersions(0x7e);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /version negotiation failed \(we support version 0x04, peer supports version 0x01\)/);
  });

  it('ovs-ofctl monitor prints our packet-ins in OF1.0, OF1.3, NXT_PACKET_IN and NXT_PACKET_IN2', async () => {
    const runs: Array<{ args: string[]; re: RegExp }> = [
      { args: ['-P', 'standard', 'monitor'], re: /OFPT_PACKET_IN \(xid=0x0\): total_len=60 in_port=5 \(via action\) data_len=60 \(unbuffered\)/ },
      { args: ['-O', 'OpenFlow13', '-P', 'standard', 'monitor'], re: /OFPT_PACKET_IN \(OF1\.3\) \(xid=0x0\): table_id=3 cookie=0x1234 total_len=60 in_port=5 \(via action\) data_len=60 \(unbuffered\)/ },
      { args: ['-P', 'nxt_packet_in', 'monitor'], re: /NXT_PACKET_IN \(xid=0x0\): table_id=3 cookie=0x1234 total_len=60 in_port=5 \(via action\) data_len=60 \(unbuffered\)/ },
      // ovs-ofctl's own default is NXT_PACKET_IN2.
      { args: ['monitor'], re: /NXT_PACKET_IN2 \(xid=0x0\): table_id=3 cookie=0x1234 total_len=60 in_port=5 \(via action\) data_len=60 \(unbuffered\)/ },
      { args: ['-O', 'OpenFlow15', 'monitor'], re: /NXT_PACKET_IN2 \(OF1\.5\) \(xid=0x0\): table_id=3 cookie=0x1234 total_len=60 in_port=5 \(via action\) data_len=60 \(unbuffered\)/ },
    ];
    for (const run of runs) {
      const before = mgr.connections().length;
      const m = background([...run.args, `unix:${mgr.mgmtPath}`, '65535']);
      procs.push(m.proc);
      const end = Date.now() + 5000;
      // Ready once the monitor set its miss_send_len.
      while (!mgr.connections().some((c) => c.missSendLen === 65535) && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
      assert.ok(mgr.connections().length > before, 'monitor connected');
      mgr.sendPacketIn(pin());
      await m.waitFor(run.re);
      stop(m.proc);
      await new Promise((r) => m.proc.once('exit', r));
      await new Promise((r) => setTimeout(r, 50));
    }
  });

  it('ovs-ofctl snoop is refused without a controller and mirrors one when connected', async () => {
    const refused = await ofctl(['snoop', `unix:${mgr.snoopPath}`]);
    assert.notEqual(refused.status, 0, 'snoop ends at once');

    // A controller the switch connects to, driven by hand.
    const path = join(dir, 'ctl.sock');
    let ctl: net.Socket | null = null;
    const framer = new OfFramer();
    const got: OfMessage[] = [];
    const server = net.createServer((s) => {
      ctl = s;
      s.on('data', (d: Buffer) => { for (const raw of framer.push(new Uint8Array(d))) got.push(decodeMessage(raw)); });
      s.write(encodeMessage(makeHello(1 << 4, 1)));
    });
    await new Promise<void>((r) => server.listen(path, r));
    mgr.setControllers([{ target: `unix:${path}` }]);
    const end = Date.now() + 5000;
    while (!mgr.controllerStatus()[0]?.isConnected && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    assert.ok(mgr.controllerStatus()[0]?.isConnected);

    const snoop = background(['snoop', `unix:${mgr.snoopPath}`]);
    procs.push(snoop.proc);
    await new Promise((r) => setTimeout(r, 300));
    ctl!.write(encodeMessage({ version: 4, xid: 0x42, kind: 'FEATURES_REQUEST', body: {} }));
    await snoop.waitFor(/OFPT_FEATURES_REQUEST \(OF1\.3\) \(xid=0x42\)/);
    await snoop.waitFor(/OFPT_FEATURES_REPLY \(OF1\.3\) \(xid=0x42\): dpid:0000000000000abc/);
    stop(snoop.proc);
    mgr.setControllers([]);
    (ctl as net.Socket | null)?.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  });
});
