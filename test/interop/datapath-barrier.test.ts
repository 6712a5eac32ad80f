// A barrier means the datapath already forwards by the rules changed before
// it. A controller alternates a flow between two output ports, sends a
// barrier, and the moment the reply arrives a frame is injected on the
// input port: 1,000 times, the frame must always leave by the port of the
// latest flow, even though tsw caches translations in megaflows. (Open
// vSwitch revalidates its datapath cache asynchronously and is known to fail
// this unless other_config:flow-limit=0; see reference/CONTROLLERS.md.)
// Also: a second frame of the same flow is forwarded from the megaflow cache,
// not translated again, and dpctl/dump-flows lists the megaflow.

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
