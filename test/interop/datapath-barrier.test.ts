// A barrier means the datapath already forwards by the rules changed before
// it. A controller alternates a flow between two output ports, sends a
// barrier, and the moment the reply arrives a frame is injected on the
// input port: 1,000 times, the frame must always leave by the port of the
// latest flow, even though tsw caches translations in megaflows. (Open
// vSwitch revalidates its datapath cache asynchronously and is known to fail
// this unless other_config:flow-limit=0; see reference/CONTROLLERS.md.)
// Also: a second frame of the same flow is forwarded from the megaflow cache,
// not translated again, and dpctl/dump-flows lists the megaflow.
// The same holds on kernel ports, where PMD worker threads forward from
// caches of their own: veths with one end in the switch's namespace and the
// other in the test's, the test sending and catching raw frames on its ends.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OfFramer, decodeMessage, encodeMessage, flowModMessage, makeHello, parseFlow, type OfMessage } from '../../src/openflow/index.js';
import { composePacket } from '../../src/flow/index.js';
import { unixctlCall } from '../../src/lib/unixctl.js';
import { okOutput, realOvsMissing, startRealOvs, type RealOvs } from './real-ovs.js';
import { FrameBatch, closeHandle, packetOpen, rxBatch, txBatch } from '../../src/native/index.js';
import { must, sweepLeftovers, Topology, topologyMissing } from '../e2e/topology.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const missing = realOvsMissing() ?? (existsSync(join(ROOT, 'dist', 'vswitchd', 'main.js')) ? null : 'not built (npm run build)');
const ROUNDS = Number(process.env.TSW_BARRIER_ROUNDS ?? 1000);

class Client {
  private readonly framer = new OfFramer();
  private readonly queue: OfMessage[] = [];
  private waiter: (() => void) | null = null;
  private xid = 1000;
  constructor(private readonly sock: net.Socket) {
    sock.on('data', (b) => {
      for (const raw of this.framer.push(b)) this.queue.push(decodeMessage(raw));
      this.waiter?.();
    });
  }
  static async open(path: string): Promise<Client> {
    const sock = net.createConnection(path);
    await new Promise((res, rej) => { sock.once('connect', res); sock.once('error', rej); });
    const c = new Client(sock);
    sock.write(encodeMessage(makeHello(1 << 4, 1)));
    await c.next((m) => m.kind === 'HELLO');
    return c;
  }
  send(m: Omit<OfMessage, 'xid' | 'version'>): number {
    const xid = ++this.xid;
    this.sock.write(encodeMessage({ ...m, version: 4, xid } as OfMessage));
    return xid;
  }
  async next(pred: (m: OfMessage) => boolean): Promise<OfMessage> {
    for (;;) {
      const i = this.queue.findIndex(pred);
      if (i >= 0) return this.queue.splice(i, 1)[0]!;
      if (this.queue.some((m) => m.kind === 'ERROR')) throw new Error(`switch error: ${JSON.stringify(this.queue.find((m) => m.kind === 'ERROR'), (_k, v) => (typeof v === 'bigint' ? String(v) : v))}`);
      await new Promise<void>((r) => { this.waiter = r; });
    }
  }
  async txPackets(): Promise<Map<number, bigint>> {
    const xid = this.send({ kind: 'MULTIPART_REQUEST', body: { stat: 'PORT_STATS', flags: 0, body: { port_no: 0xffffffff } } } as unknown as OfMessage);
    const m = await this.next((x) => x.kind === 'MULTIPART_REPLY' && x.xid === xid);
    const entries = (m.body as unknown as { body: { entries: Array<{ port_no: number; tx_packets: bigint }> } }).body.entries;
    return new Map(entries.map((e) => [e.port_no, e.tx_packets]));
  }
  close(): void {
    this.sock.destroy();
  }
}

const FRAME = Buffer.from(composePacket(parseFlow(
  'in_port=1,dl_src=50:54:00:00:00:01,dl_dst=50:54:00:00:00:09,udp,nw_src=10.0.0.1,nw_dst=10.0.0.9,tp_src=7,tp_dst=9,actions=drop').match)).toString('hex');

describe('tsw: a barrier reply means the datapath forwards by the new rules', { skip: missing ?? false }, () => {
  let s: RealOvs;
  let c: Client;
  before(async () => {
    s = await startRealOvs({ impl: 'tsw', bridges: ['br0'], ports: { br0: ['p1', 'p2', 'p3'] } });
    okOutput(await s.ofctl(['del-flows', 'br0']), 'del-flows');
    c = await Client.open(s.mgmt('br0'));
  });
  after(async () => {
    c?.close();
    await s?.stop();
  });

  test('a frame repeated on an unchanged flow comes from the megaflow cache', async () => {
    c.send({ kind: 'FLOW_MOD', body: flowModMessage(parseFlow('priority=10,in_port=1,actions=output:2'), 'OpenFlow13').body } as unknown as OfMessage);
    const b = c.send({ kind: 'BARRIER_REQUEST', body: {} } as unknown as OfMessage);
    await c.next((m) => m.kind === 'BARRIER_REPLY' && m.xid === b);
    for (let i = 0; i < 3; i++) await unixctlCall(s.ctl.vswitchd, 'netdev-dummy/receive', ['p1', FRAME]);
    const show = await unixctlCall(s.ctl.vswitchd, 'dpctl/show');
    assert.match(show, /lookups: hit:2 missed:1 lost:0\n/);
    const flows = await unixctlCall(s.ctl.vswitchd, 'dpctl/dump-flows');
    // As in OVS, the packet that made the flow is not counted on it.
    assert.match(flows, /^recirc_id\(0\),in_port\(1\),packet_type\(ns=0,id=0\),.* packets:2, bytes:\d+, used:[\d.]+s, actions:2$/m);
    // The megaflow only holds what the flow looked at: no addresses or L4 ports.
    assert.doesNotMatch(flows, /udp\(|ipv4\(src|eth\(src/);
  });

  test(`${ROUNDS} flow changes, each followed by a barrier and a frame: never the old port`, { timeout: 120_000 }, async () => {
    let stale = 0;
    let before = await c.txPackets();
    for (let i = 0; i < ROUNDS; i++) {
      const port = i % 2 === 0 ? 3 : 2;
      c.send({ kind: 'FLOW_MOD', body: flowModMessage(parseFlow(`priority=10,in_port=1,actions=output:${port}`), 'OpenFlow13').body } as unknown as OfMessage);
      const b = c.send({ kind: 'BARRIER_REQUEST', body: {} } as unknown as OfMessage);
      await c.next((m) => m.kind === 'BARRIER_REPLY' && m.xid === b);
      await unixctlCall(s.ctl.vswitchd, 'netdev-dummy/receive', ['p1', FRAME]);
      const now = await c.txPackets();
      const grew = (p: number) => (now.get(p) ?? 0n) - (before.get(p) ?? 0n);
      if (grew(port) !== 1n || grew(port === 2 ? 3 : 2) !== 0n) stale++;
      before = now;
    }
    assert.equal(stale, 0, `${stale} of ${ROUNDS} frames left by the wrong port`);
    // The datapath kept forwarding from its cache: one flow, revalidated in place at each change, and a hit per round.
    const show = await unixctlCall(s.ctl.vswitchd, 'dpctl/show');
    assert.match(show, /flows: 1\n/);
    const hits = Number(/lookups: hit:(\d+)/.exec(show)?.[1]);
    assert.ok(hits >= ROUNDS, `only ${hits} cache hits in ${ROUNDS} rounds: ${show}`);
  });
});

/** A raw frame of the IEEE local-experimental ethertype carrying `seq`. */
function seqFrame(seq: number): Uint8Array {
  const f = new Uint8Array(64);
  f.set([0x02, 0, 0, 0, 0, 0x09, 0x02, 0, 0, 0, 0, 0x01, 0x88, 0xb5, (seq >> 24) & 0xff, (seq >> 16) & 0xff, (seq >> 8) & 0xff, seq & 0xff]);
  return f;
}

describe('tsw with PMD workers on kernel ports: a barrier reply means the workers forward by the new rules',
  { skip: missing ?? topologyMissing() ?? false }, () => {
    const topo = new Topology();
    let s: RealOvs;
    let c: Client;
    /** The test's own ends of the veths to ports 1, 2 and 3. */
    const ends: number[] = [];
    const out = new FrameBatch(4, 16384);
    const got = new FrameBatch(256);

    before(async () => {
      await sweepLeftovers();
      const ns = await topo.addNs('bar');
      s = await startRealOvs({ impl: 'tsw', dbserver: 'tsw', dummy: false, netns: ns, bridges: [] });
      okOutput(await s.vsctl(['add-br', 'br0', '--', 'set', 'Bridge', 'br0', 'datapath_type=netdev', 'fail_mode=secure', 'protocols=OpenFlow13']), 'add-br');
      for (let i = 1; i <= 3; i++) {
        const [mine, theirs] = [topo.name(`r${i}`), topo.name(`b${i}`)];
        await must('ip', ['link', 'add', mine, 'type', 'veth', 'peer', 'name', theirs, 'netns', ns]);
        await must('sysctl', ['-qw', `net.ipv6.conf.${mine}.disable_ipv6=1`]);
        await must('ip', ['netns', 'exec', ns, 'sysctl', '-qw', `net.ipv6.conf.${theirs}.disable_ipv6=1`]);
        await must('ip', ['link', 'set', mine, 'up']);
        await must('ip', ['-n', ns, 'link', 'set', theirs, 'up']);
        okOutput(await s.vsctl(['add-port', 'br0', theirs, '--', 'set', 'Interface', theirs, `ofport_request=${i}`]), 'add-port');
        ends.push(packetOpen(mine));
      }
      okOutput(await s.ofctl(['-O', 'OpenFlow13', 'del-flows', 'br0']), 'del-flows');
      c = await Client.open(s.mgmt('br0'));
    });
    after(async () => {
      c?.close();
      await s?.stop();
      for (const h of ends) closeHandle(h);
      for (let i = 1; i <= 3; i++) await must('ip', ['link', 'del', topo.name(`r${i}`)]).catch(() => undefined);
      await topo.cleanup();
    });

    /** Sends `seq` into port 1 and says which port (2 or 3) it came out of, 0 for none within `ms`. */
    async function through(seq: number, ms = 500): Promise<number> {
      out.clear();
      out.push(seqFrame(seq));
      txBatch(ends[0]!, out);
      const end = Date.now() + ms;
      while (Date.now() < end) {
        for (const port of [2, 3]) {
          got.clear();
          const n = rxBatch(ends[port - 1]!, got);
          for (let i = 0; i < n; i++) {
            const f = got.frame(i);
            if (f[12] === 0x88 && f[13] === 0xb5 && ((f[14]! << 24 | f[15]! << 16 | f[16]! << 8 | f[17]!) >>> 0) === seq) return port;
          }
        }
        await new Promise((r) => setImmediate(r));
      }
      return 0;
    }

    test(`${ROUNDS} flow changes, each followed by a barrier and a frame: never the old port`, { timeout: 180_000 }, async () => {
      let stale = 0;
      let lost = 0;
      for (let i = 0; i < ROUNDS; i++) {
        const port = i % 2 === 0 ? 3 : 2;
        c.send({ kind: 'FLOW_MOD', body: flowModMessage(parseFlow(`priority=10,in_port=1,dl_type=0x88b5,actions=output:${port}`), 'OpenFlow13').body } as unknown as OfMessage);
        const b = c.send({ kind: 'BARRIER_REQUEST', body: {} } as unknown as OfMessage);
        await c.next((m) => m.kind === 'BARRIER_REPLY' && m.xid === b);
        const seen = await through(i);
        if (seen === 0) lost++;
        else if (seen !== port) stale++;
      }
      assert.equal(stale, 0, `${stale} of ${ROUNDS} frames left by the old port`);
      assert.equal(lost, 0, `${lost} of ${ROUNDS} frames never came out`);
      // A PMD worker forwarded them, from a megaflow it translated again at each change.
      // (Workers report their counters twice a second.)
      let pmd = '';
      for (let tries = 0; tries < 20; tries++) {
        pmd = okOutput(await s.appctl(['dpif-netdev/pmd-stats-show']), 'pmd-stats-show');
        if (Number(/pmd thread numa_id 0 core_id \d+:\n {2}packets received: (\d+)/.exec(pmd)?.[1]) >= ROUNDS) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(Number(/pmd thread numa_id 0 core_id \d+:\n {2}packets received: (\d+)/.exec(pmd)?.[1]) >= ROUNDS, pmd);
      const flows = okOutput(await s.appctl(['dpctl/dump-flows']), 'dump-flows');
      assert.match(flows, /^flow-dump from pmd on cpu core: \d+\n/, flows);
      assert.match(flows, /in_port\(\d+\),.*eth_type\(0x88b5\).*actions:\d+$/m, flows);
      // One worker receives from all four ports (three veths and the bridge's own), port 1 busier than the rest.
      const rxq = okOutput(await s.appctl(['dpif-netdev/pmd-rxq-show']), 'pmd-rxq-show');
      const lines = [...rxq.matchAll(/^ {2}port: (\S+) +queue-id: {2}0 \(enabled\) {3}pmd usage: +(\d+|NOT AVAIL) ?%?$/gm)];
      assert.equal(lines.length, 4, rxq);
      assert.match(rxq, /^ {2}overhead: /m, rxq);
    });

    test('a metered flow on a worker keeps to its meter (its packets go through the main thread, which owns meters)', async () => {
      okOutput(await s.ofctl(['-O', 'OpenFlow13', 'add-meter', 'br0', 'meter=7,pktps,band=type=drop,rate=1']), 'add-meter');
      okOutput(await s.ofctl(['-O', 'OpenFlow13', 'add-flow', 'br0', 'priority=20,in_port=1,dl_type=0x88b5,actions=meter:7,output:3']), 'add-flow');
      let through3 = 0;
      for (let i = 0; i < 30; i++) if (await through(200_000 + i, 30) === 3) through3++;
      assert.ok(through3 >= 1 && through3 <= 5, `${through3} of 30 frames passed a 1 packet/s meter`);
      const stats = okOutput(await s.ofctl(['-O', 'OpenFlow13', 'meter-stats', 'br0']), 'meter-stats');
      assert.match(stats, /meter:7 .*packet_in_count:(\d+)/, stats);
      okOutput(await s.ofctl(['-O', 'OpenFlow13', '--strict', 'del-flows', 'br0', 'priority=20,in_port=1,dl_type=0x88b5']), 'del-flows');
    });

    test('other_config:pmd-cpu-mask sets how many PMD workers there are, and forwarding goes on', async () => {
      okOutput(await s.vsctl(['set', 'Open_vSwitch', '.', 'other_config:pmd-cpu-mask=0x6']), 'set pmd-cpu-mask');
      let pmd = '';
      for (let tries = 0; tries < 50 && !/core_id 2:/.test(pmd); tries++) {
        await new Promise((r) => setTimeout(r, 100));
        pmd = okOutput(await s.appctl(['dpif-netdev/pmd-stats-show']), 'pmd-stats-show');
      }
      assert.deepEqual([...pmd.matchAll(/^pmd thread numa_id 0 core_id (\d+):$/gm)].map((m) => m[1]), ['1', '2'], pmd);
      // The ports' receive queues are spread over the two workers (the bridge's own port is one of them).
      const rxq = okOutput(await s.appctl(['dpif-netdev/pmd-rxq-show']), 'pmd-rxq-show');
      assert.match(rxq, /^Displaying last 60 seconds pmd usage %\npmd thread numa_id 0 core_id 1:\n {2}isolated : false\n/, rxq);
      const perCore = rxq.split(/^pmd thread/m).slice(1).map((sec) => (sec.match(/^ {2}port: /gm) ?? []).length);
      assert.deepEqual(perCore, [2, 2], rxq);
      let seen = 0;
      for (let i = 0; i < 20 && !seen; i++) seen = await through(100_000 + i, 200);
      assert.ok(seen === 2 || seen === 3, 'a frame gets through with two workers');
      okOutput(await s.vsctl(['remove', 'Open_vSwitch', '.', 'other_config', 'pmd-cpu-mask']), 'remove pmd-cpu-mask');
    });
  });
