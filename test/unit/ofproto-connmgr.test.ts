// The connection manager against raw OpenFlow clients on its sockets, with a
// fake switch core behind it: handshakes in every version pairing, echo and
// inactivity probes, roles, async filters, packet-in formats, rate limits,
// reconnection, snooping, malformed input, and a crowd of clients.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  OfError, OfFramer, decodeMessage, encodeMessage, makeHello, type OfMessage, type MessageOf,
} from '../../src/openflow/index.js';
import { Connmgr, type OfConn, type OfprotoHooks, type PacketInInfo } from '../../src/ofproto/connmgr.js';
import { PacketInScheduler } from '../../src/ofproto/pinsched.js';

// ---------------------------------------------------------------- a fake core and a raw client

class FakeCore implements OfprotoHooks {
  readonly seen: Array<{ conn: OfConn; msg: OfMessage }> = [];
  readonly closedConns: OfConn[] = [];
  readonly failOpen: boolean[] = [];

  handleMessage(conn: OfConn, msg: OfMessage): void {
    this.seen.push({ conn, msg });
    const { version, xid } = msg;
    switch (msg.kind) {
      case 'FEATURES_REQUEST':
        conn.send({ version, xid, kind: 'FEATURES_REPLY', body: version === 1
          ? { datapath_id: 0xabcn, n_buffers: 0, n_tables: 254, capabilities: 0xc7, actions: 0xfff, ports: [] }
          : { datapath_id: 0xabcn, n_buffers: 0, n_tables: 254, auxiliary_id: 0, capabilities: 0x4f, reserved: 0 } } as OfMessage);
        return;
      case 'BARRIER_REQUEST':
        conn.send({ version, xid, kind: 'BARRIER_REPLY', body: {} });
        return;
      case 'FLOW_MOD':
      case 'PACKET_OUT':
        return;
      default:
        throw new OfError('OFPBRC_BAD_TYPE', msg.kind);
    }
  }

  connectionClosed(conn: OfConn): void {
    this.closedConns.push(conn);
  }

  failOpenChanged(active: boolean): void {
    this.failOpen.push(active);
  }
}

interface Rx { m: OfMessage | null; raw: Uint8Array }

class Client {
  readonly rx: Rx[] = [];
  private waiters: Array<() => void> = [];
  closed = false;
  readonly done: Promise<void>;

  constructor(readonly sock: net.Socket) {
    const framer = new OfFramer();
    sock.on('data', (c: Buffer) => {
      for (const raw of framer.push(new Uint8Array(c))) {
        let m: OfMessage | null = null;
        try { m = decodeMessage(raw); } catch { /* kept raw */ }
        this.rx.push({ m, raw });
      }
      this.wake();
    });
    sock.on('error', () => undefined);
    this.done = new Promise((res) => sock.once('close', () => { this.closed = true; this.wake(); res(); }));
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  static connect(path: string): Promise<Client> {
    return new Promise((res, rej) => {
      const s = net.connect(path, () => res(new Client(s)));
      s.once('error', rej);
    });
  }

  send(m: OfMessage): void { this.sock.write(encodeMessage(m)); }
  sendRaw(b: Uint8Array): void { this.sock.write(b); }
  close(): void { this.sock.destroy(); }

  /** Takes the first received message satisfying `pred`. */
  next(pred: (r: Rx) => boolean, ms = 3000): Promise<Rx> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out; got ${this.rx.map((r) => r.m?.kind ?? 'raw').join(',')}`)), ms);
      const check = (): void => {
        const i = this.rx.findIndex(pred);
        if (i >= 0) {
          clearTimeout(timer);
          resolve(this.rx.splice(i, 1)[0]!);
        } else if (this.closed) {
          clearTimeout(timer);
          reject(new Error('closed'));
        } else {
          this.waiters.push(check);
        }
      };
      check();
    });
  }

  kind<K extends OfMessage['kind']>(kind: K, ms?: number): Promise<MessageOf<K>> {
    return this.next((r) => r.m?.kind === kind, ms).then((r) => r.m as MessageOf<K>);
  }

  /** Says HELLO with `versions` and waits for ours; returns our HELLO. */
  async hello(versions: number): Promise<MessageOf<'HELLO'>> {
    this.send(makeHello(versions, 1));
    return this.kind('HELLO');
  }

  /** Round trip that proves the connection is up and everything before was handled. */
  async ping(version: number, xid = 77): Promise<void> {
    this.send({ version, xid, kind: 'ECHO_REQUEST', body: { data: new Uint8Array([1, 2]) } });
    await this.next((r) => r.m?.kind === 'ECHO_REPLY' && r.m.xid === xid);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(cond: () => boolean, ms = 3000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** A listening socket that stands in for a controller; hands out each accepted connection. */
async function controllerSocket(path: string): Promise<{ server: net.Server; accept(): Promise<Client>; close(): Promise<void> }> {
  const pending: Client[] = [];
  const waiting: Array<(c: Client) => void> = [];
  const socks = new Set<net.Socket>();
  const server = net.createServer((s) => {
    socks.add(s);
    const c = new Client(s);
    const w = waiting.shift();
    if (w) w(c); else pending.push(c);
  });
  await new Promise<void>((r) => server.listen(path, r));
  return {
    server,
    accept: () => new Promise((res, rej) => {
      const c = pending.shift();
      if (c) return res(c);
      const t = setTimeout(() => rej(new Error('no connection from the switch')), 10_000);
      waiting.push((x) => { clearTimeout(t); res(x); });
    }),
    close: async () => {
      for (const s of socks) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

function pin(over: Partial<PacketInInfo> = {}): PacketInInfo {
  const frame = new Uint8Array(200).map((_, i) => i & 0xff);
  return {
    reason: 'action', tableId: 3, cookie: 0x1234n, metadata: { in_port: { value: 5n }, metadata: { value: 0x99n } },
    frame, maxLen: 0xffff, controllerId: 0, ...over,
  };
}

// ---------------------------------------------------------------- tests

describe('connmgr', () => {
  let dir: string;
  let core: FakeCore;
  let mgr: Connmgr;
  const clients: Client[] = [];

  async function client(versions = 1 << 4): Promise<Client> {
    const c = await Client.connect(mgr.mgmtPath);
    clients.push(c);
    await c.hello(versions);
    return c;
  }

  async function fresh(opts: { allowed?: number } = {}): Promise<void> {
    for (const c of clients.splice(0)) c.close();
    if (mgr) await mgr.close();
    core = new FakeCore();
    mgr = new Connmgr({ bridge: 'br0', rundir: dir, hooks: core, datapathId: () => 0xabcn, minProbeInterval: 100 });
    if (opts.allowed) mgr.setAllowedVersions(opts.allowed);
    await mgr.start();
  }

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tsw-connmgr-'));
    await fresh();
  });

  after(async () => {
    for (const c of clients.splice(0)) c.close();
    await mgr.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('listens on br0.mgmt and br0.snoop and removes both on close', async () => {
    assert.ok(existsSync(join(dir, 'br0.mgmt')) && existsSync(join(dir, 'br0.snoop')));
    await mgr.close();
    assert.ok(!existsSync(join(dir, 'br0.mgmt')) && !existsSync(join(dir, 'br0.snoop')));
    await fresh();
  });

  it('negotiates every pairing of allowed versions and offered versions as OVS does', async () => {
    const cases: Array<{ allowed: number; offer: number; ourHello: [number, number | null]; result: number | string }> = [
      { allowed: 0x7e, offer: 1 << 1, ourHello: [6, null], result: 1 },
      { allowed: 0x7e, offer: 1 << 4, ourHello: [6, null], result: 4 },
      { allowed: 0x7e, offer: 0x7e, ourHello: [6, null], result: 6 },
      { allowed: 0x7e, offer: (1 << 1) | (1 << 5), ourHello: [6, null], result: 5 },
      { allowed: (1 << 1) | (1 << 4), offer: 0x7e, ourHello: [4, 0x12], result: 4 },
      { allowed: 1 << 6, offer: 1 << 6, ourHello: [6, 0x40], result: 6 },
      { allowed: 0x7e, offer: 1 << 7, ourHello: [6, null],
        result: 'We support versions 0x01, 0x04, 0x05, 0x06, you support version 0x07, no common versions.' },
      { allowed: 1 << 1, offer: 1 << 4, ourHello: [1, null],
        result: 'We support version 0x01, you support version 0x04, no common versions.' },
    ];
    for (const t of cases) {
      await fresh({ allowed: t.allowed });
      const c = await Client.connect(mgr.mgmtPath);
      clients.push(c);
      const h = await c.hello(t.offer);
      assert.equal(h.version, t.ourHello[0], `hello header for allowed 0x${t.allowed.toString(16)}`);
      const bm = h.body.elements.find((e) => e.type === 1) as { bitmaps: number[] } | undefined;
      assert.equal(bm?.bitmaps[0] ?? null, t.ourHello[1]);
      if (typeof t.result === 'number') {
        await c.ping(t.result);
        await until(() => mgr.connections().length === 1);
        assert.equal(mgr.connections()[0]!.version, t.result);
      } else {
        const e = await c.kind('ERROR');
        assert.equal((e.body as { type: number }).type, 0, 'OFPET_HELLO_FAILED');
        assert.equal(Buffer.from(e.body.data).toString('latin1'), t.result);
        await c.done;
      }
    }
    await fresh();
  });

  it('drops a peer that sends something else before HELLO', async () => {
    const c = await Client.connect(mgr.mgmtPath);
    clients.push(c);
    c.send({ version: 4, xid: 1, kind: 'FEATURES_REQUEST', body: {} });
    await c.done;
    assert.equal(mgr.connections().length, 0);
  });

  it('answers echo itself and passes FEATURES and BARRIER to the core in order', async () => {
    const c = await client();
    c.send({ version: 4, xid: 9, kind: 'ECHO_REQUEST', body: { data: new Uint8Array([7, 7]) } });
    const r = await c.kind('ECHO_REPLY');
    assert.deepEqual([r.xid, [...r.body.data]], [9, [7, 7]]);
    c.send({ version: 4, xid: 10, kind: 'FEATURES_REQUEST', body: {} });
    c.send({ version: 4, xid: 11, kind: 'BARRIER_REQUEST', body: {} });
    assert.equal((await c.kind('FEATURES_REPLY')).xid, 10);
    assert.equal((await c.kind('BARRIER_REPLY')).xid, 11);
    assert.ok(!core.seen.some((s) => s.msg.kind === 'ECHO_REQUEST'), 'echo never reaches the core');
  });

  it('keeps a connection after malformed and unknown messages, answering each with the OVS error', async () => {
    const c = await client(1 << 4);
    // A FEATURES_REQUEST with a stray body byte: BAD_LEN, same xid, offending bytes quoted.
    c.sendRaw(new Uint8Array([4, 5, 0, 9, 0, 0, 0, 21, 0]));
    let e = await c.kind('ERROR');
    assert.deepEqual([e.xid, (e.body as { type: number }).type, (e.body as { code: number }).code], [21, 1, 6]);
    assert.deepEqual([...e.body.data], [4, 5, 0, 9, 0, 0, 0, 21, 0]);
    // An unknown message type: BAD_TYPE, as in the capture of real vswitchd (04 01 0014 xid 0001 0001 …).
    c.sendRaw(new Uint8Array([4, 0x63, 0, 8, 0, 0, 0, 3]));
    const raw = (await c.next((r) => r.raw[1] === 1)).raw;
    assert.equal(Buffer.from(raw).toString('hex'), '0401001400000003000100010463000800000003');
    // A message in another version than negotiated: BAD_VERSION.
    c.sendRaw(encodeMessage({ version: 1, xid: 4, kind: 'FEATURES_REQUEST', body: {} }));
    e = await c.kind('ERROR');
    assert.deepEqual([e.xid, (e.body as { code: number }).code], [4, 0]);
    // A 4 kB message with garbage past a valid header is quoted whole, as ovs-vswitchd 3.1 does.
    const big = new Uint8Array(4096);
    big.set([4, 5, 0x10, 0, 0, 0, 0, 5]);
    c.sendRaw(big);
    e = await c.kind('ERROR');
    assert.equal(e.body.data.length, 4096);
    await c.ping(4);
  });

  it('answers an unknown vendor with BAD_VENDOR and an unknown Nicira subtype with BAD_SUBTYPE (OF1.0)', async () => {
    const c = await client(1 << 1);
    c.send({ version: 1, xid: 5, kind: 'EXPERIMENTER', body: { experimenter: 0x1234, data: new Uint8Array(4) } } as OfMessage);
    let e = await c.kind('ERROR');
    assert.deepEqual([e.xid, (e.body as { type: number }).type, (e.body as { code: number }).code], [5, 1, 3]);
    c.send({ version: 1, xid: 6, kind: 'EXPERIMENTER', body: { experimenter: 0x2320, data: new Uint8Array([0, 0, 0, 99]) } } as OfMessage);
    e = await c.kind('ERROR');
    assert.deepEqual([e.xid, (e.body as { code: number }).code], [6, 4]);
  });

  it('keeps per-connection config: miss_send_len, frag flags, flow format, table-id flag, controller id', async () => {
    const a = await client(1 << 1);
    const b = await client(1 << 1);
    a.send({ version: 1, xid: 1, kind: 'GET_CONFIG_REQUEST', body: {} });
    assert.deepEqual((await a.kind('GET_CONFIG_REPLY')).body, { flags: 0, miss_send_len: 0 }, 'a service starts with miss_send_len 0');
    a.send({ version: 1, xid: 2, kind: 'SET_CONFIG', body: { flags: 1, miss_send_len: 1000 } });
    a.send({ version: 1, xid: 3, kind: 'NXT_SET_FLOW_FORMAT', body: { format: 2 } } as OfMessage);
    a.send({ version: 1, xid: 4, kind: 'NXT_FLOW_MOD_TABLE_ID', body: { set: 1 } } as OfMessage);
    a.send({ version: 1, xid: 5, kind: 'NXT_SET_CONTROLLER_ID', body: { controller_id: 7 } } as OfMessage);
    a.send({ version: 1, xid: 6, kind: 'GET_CONFIG_REQUEST', body: {} });
    assert.deepEqual((await a.kind('GET_CONFIG_REPLY')).body, { flags: 1, miss_send_len: 1000 });
    b.send({ version: 1, xid: 7, kind: 'GET_CONFIG_REQUEST', body: {} });
    assert.deepEqual((await b.kind('GET_CONFIG_REPLY')).body, { flags: 1, miss_send_len: 0 }, 'frag handling is per switch');
    const ca = mgr.connections().find((c) => c.missSendLen === 1000)!;
    assert.deepEqual([ca.flowFormat, ca.flowModTableId, ca.controllerId], ['nxm', true, 7]);
    a.send({ version: 1, xid: 9, kind: 'NXT_SET_FLOW_FORMAT', body: { format: 5 } } as OfMessage);
    const e = await a.kind('ERROR');
    assert.deepEqual([e.xid, (e.body as { code: number }).code], [9, 5], 'bad flow format: OFPBRC_EPERM');
    a.send({ version: 1, xid: 10, kind: 'SET_CONFIG', body: { flags: 2, miss_send_len: 1000 } });
    a.send({ version: 1, xid: 11, kind: 'GET_CONFIG_REQUEST', body: {} });
    assert.equal((await a.kind('GET_CONFIG_REPLY')).body.flags, 1, 'reassembly is refused as by OVS');
  });

  it('elects masters with generation ids: stale ids refused, the old master demoted with ROLE_STATUS', async () => {
    const a = await client(1 << 5);
    const b = await client(1 << 5);
    const c13 = await client(1 << 4);
    a.send({ version: 5, xid: 1, kind: 'ROLE_REQUEST', body: { role: 2, generation_id: 10n } });
    assert.deepEqual((await a.kind('ROLE_REPLY')).body, { role: 2, generation_id: 10n });
    b.send({ version: 5, xid: 2, kind: 'ROLE_REQUEST', body: { role: 2, generation_id: 9n } });
    const stale = await b.kind('ERROR');
    assert.deepEqual([stale.xid, (stale.body as { type: number }).type, (stale.body as { code: number }).code], [2, 11, 0]);
    b.send({ version: 5, xid: 3, kind: 'ROLE_REQUEST', body: { role: 2, generation_id: 11n } });
    assert.deepEqual((await b.kind('ROLE_REPLY')).body, { role: 2, generation_id: 11n });
    const st = await a.kind('ROLE_STATUS');
    assert.deepEqual([st.body.role, st.body.reason, st.body.generation_id], [3, 0, 11n]);
    // The demoted master may no longer change the switch.
    a.send({ version: 5, xid: 4, kind: 'PACKET_OUT', body: { buffer_id: 0xffffffff, in_port: 0xfffffffd, actions: [], data: new Uint8Array(14) } } as OfMessage);
    const poErr = await a.kind('ERROR');
    assert.deepEqual([poErr.xid, (poErr.body as { code: number }).code], [4, 10]);
    const fm = encodeMessage({ version: 5, xid: 5, kind: 'FLOW_MOD', body: {
      cookie: 0n, cookie_mask: 0n, table_id: 0, command: 0, idle_timeout: 0, hard_timeout: 0, priority: 1, buffer_id: 0xffffffff,
      out_port: 0xffffffff, out_group: 0xffffffff, flags: 0, importance: 0, match: {}, instructions: [] } } as OfMessage);
    const before = core.seen.length;
    a.sendRaw(fm);
    const slaveErr = await a.next((r) => r.m?.kind === 'ERROR' && r.m.xid === 5);
    assert.deepEqual([(slaveErr.m!.body as { type: number }).type, (slaveErr.m!.body as { code: number }).code], [1, 10], 'OFPBRC_IS_SLAVE');
    assert.equal(core.seen.length, before, 'the core never saw it');
    // An OF1.3 master taking over: the OF1.4 master hears ROLE_STATUS, the 1.3 one gets the ONF extension when demoted.
    c13.send({ version: 4, xid: 6, kind: 'ROLE_REQUEST', body: { role: 2, generation_id: 12n } });
    await c13.kind('ROLE_REPLY');
    assert.equal((await b.kind('ROLE_STATUS')).body.role, 3);
    b.send({ version: 5, xid: 7, kind: 'ROLE_REQUEST', body: { role: 2, generation_id: 13n } });
    await b.kind('ROLE_REPLY');
    const onf = await c13.kind('EXPERIMENTER');
    const dv = new DataView(onf.body.data.buffer, onf.body.data.byteOffset);
    assert.deepEqual([(onf.body as { experimenter: number }).experimenter, (onf.body as { exp_type: number }).exp_type, dv.getUint32(0)], [0x4f4e4600, 1911, 3]);
    // EQUAL and NOCHANGE need no generation check; NOCHANGE reports the current role.
    a.send({ version: 5, xid: 8, kind: 'ROLE_REQUEST', body: { role: 1, generation_id: 0n } });
    assert.equal((await a.kind('ROLE_REPLY')).body.role, 1);
    a.send({ version: 5, xid: 9, kind: 'ROLE_REQUEST', body: { role: 0, generation_id: 0n } });
    assert.deepEqual((await a.kind('ROLE_REPLY')).body, { role: 1, generation_id: 13n });
    a.send({ version: 5, xid: 10, kind: 'ROLE_REQUEST', body: { role: 7, generation_id: 0n } });
    assert.equal(((await a.kind('ERROR')).body as { code: number }).code, 2, 'OFPRRFC_BAD_ROLE');
  });

  it('answers Nicira role requests in OF1.0 with Nicira role numbers', async () => {
    await fresh();
    const a = await client(1 << 1);
    a.send({ version: 1, xid: 3, kind: 'NXT_ROLE_REQUEST', body: { role: 2 } } as OfMessage);
    assert.equal((await a.kind('NXT_ROLE_REPLY')).body.role, 2);
    a.send({ version: 1, xid: 4, kind: 'NXT_ROLE_REQUEST', body: { role: 3 } } as OfMessage);
    assert.equal((await a.kind('ERROR')).xid, 4);
  });

  it('reports OVS default async configs and keeps the 1.3 and 1.4 forms apart', async () => {
    const c13 = await client(1 << 4);
    c13.send({ version: 4, xid: 1, kind: 'GET_ASYNC_REQUEST', body: {} });
    assert.deepEqual((await c13.kind('GET_ASYNC_REPLY')).body, {
      packet_in_mask: { master: 3, slave: 0 }, port_status_mask: { master: 7, slave: 7 }, flow_removed_mask: { master: 15, slave: 0 },
    });
    const c14 = await client(1 << 5);
    c14.send({ version: 5, xid: 1, kind: 'GET_ASYNC_REQUEST', body: {} });
    const props = ((await c14.kind('GET_ASYNC_REPLY')).body as { properties: Array<{ type: number; mask: number }> }).properties;
    assert.deepEqual(props.map((p) => [p.type, p.mask]), [[0, 0], [1, 0x3b], [2, 7], [3, 7], [4, 0], [5, 0x3f], [6, 0], [7, 0], [8, 0], [9, 0], [10, 0], [11, 0]]);
    // 1.4: a reason the version does not define is OFPACFC_INVALID; unknown property OFPACFC_UNSUPPORTED.
    c14.send({ version: 5, xid: 2, kind: 'SET_ASYNC', body: { properties: [{ type: 3, mask: 0x80 }] } } as OfMessage);
    assert.deepEqual(((await c14.kind('ERROR')).body as { code: number }).code, 0);
    c14.send({ version: 5, xid: 3, kind: 'SET_ASYNC', body: { properties: [{ type: 2, mask: 1 }] } } as OfMessage);
    c14.send({ version: 5, xid: 4, kind: 'GET_ASYNC_REQUEST', body: {} });
    const after14 = ((await c14.kind('GET_ASYNC_REPLY')).body as { properties: Array<{ type: number; mask: number }> }).properties;
    assert.equal(after14[2]!.mask, 1, 'only the property sent changed');
    assert.equal(after14[1]!.mask, 0x3b);
  });

  it('filters asynchronous messages by async masks, role and service miss_send_len', async () => {
    await fresh();
    const svc = await client(1 << 4);
    const master = await client(1 << 4);
    master.send({ version: 4, xid: 1, kind: 'SET_CONFIG', body: { flags: 0, miss_send_len: 128 } });
    master.send({ version: 4, xid: 2, kind: 'ROLE_REQUEST', body: { role: 2, generation_id: 1n } });
    await master.kind('ROLE_REPLY');
    const slave = await client(1 << 4);
    slave.send({ version: 4, xid: 1, kind: 'SET_CONFIG', body: { flags: 0, miss_send_len: 128 } });
    slave.send({ version: 4, xid: 2, kind: 'ROLE_REQUEST', body: { role: 3, generation_id: 1n } });
    await slave.kind('ROLE_REPLY');
    const sent: string[] = [];
    mgr.sendAsync('FLOW_REMOVED', 0, (c) => { sent.push(`fr:${c.role}`); return { version: c.version, xid: 0, kind: 'BARRIER_REPLY', body: {} }; });
    mgr.sendAsync('PORT_STATUS', 2, (c) => { sent.push(`ps:${c.role}`); return null; });
    mgr.sendAsync('PORT_STATUS', 2, (c) => { sent.push(`ps2:${c.role}`); return null; }, mgr.connections().find((c) => c.role === 'slave'));
    assert.deepEqual(sent.sort(), ['fr:master', 'ps2:master', 'ps:master', 'ps:slave'], 'the plain service (miss_send_len 0) gets nothing');
    mgr.sendPacketIn(pin());
    await master.kind('PACKET_IN');
    // The slave asks for packet-ins in its role: it gets the next one.
    slave.send({ version: 4, xid: 3, kind: 'SET_ASYNC', body: { packet_in_mask: { master: 0, slave: 2 }, port_status_mask: { master: 0, slave: 0 }, flow_removed_mask: { master: 0, slave: 0 } } } as OfMessage);
    await slave.ping(4);
    mgr.sendPacketIn(pin());
    await slave.kind('PACKET_IN');
    await master.kind('PACKET_IN');
    // NXT_SET_ASYNC_CONFIG / SET_ASYNC wake a service up (miss_send_len becomes 128).
    svc.send({ version: 4, xid: 4, kind: 'SET_ASYNC', body: { packet_in_mask: { master: 2, slave: 0 }, port_status_mask: { master: 0, slave: 0 }, flow_removed_mask: { master: 0, slave: 0 } } } as OfMessage);
    svc.send({ version: 4, xid: 5, kind: 'GET_CONFIG_REQUEST', body: {} });
    assert.equal((await svc.kind('GET_CONFIG_REPLY')).body.miss_send_len, 128);
    mgr.sendPacketIn(pin());
    await svc.kind('PACKET_IN');
  });

  it('builds packet-ins per version and format, mapping reasons as OVS does', async () => {
    await fresh();
    const c10 = await client(1 << 1);
    const c13 = await client(1 << 4);
    const c15 = await client(1 << 6);
    const nx = await client(1 << 4);
    const nx2 = await client(1 << 1);
    for (const c of [c10, c13, c15]) c.send({ version: c === c10 ? 1 : c === c13 ? 4 : 6, xid: 1, kind: 'SET_CONFIG', body: { flags: 0, miss_send_len: 0xffff } });
    nx.send({ version: 4, xid: 1, kind: 'SET_CONFIG', body: { flags: 0, miss_send_len: 128 } });
    nx.send({ version: 4, xid: 2, kind: 'NXT_SET_PACKET_IN_FORMAT', body: { format: 1 } } as OfMessage);
    nx2.send({ version: 1, xid: 1, kind: 'SET_CONFIG', body: { flags: 0, miss_send_len: 128 } });
    nx2.send({ version: 1, xid: 2, kind: 'NXT_SET_PACKET_IN_FORMAT', body: { format: 2 } } as OfMessage);
    await Promise.all([c10.ping(1), c13.ping(4), c15.ping(6), nx.ping(4), nx2.ping(1)]);

    // An explicit table-miss flow: ACTION to OF1.0, NO_MATCH to 1.3+.
    mgr.sendPacketIn(pin({ reason: 'no_match', explicitMiss: true, userdata: new Uint8Array([9, 8]) }));
    const p10 = await c10.kind('PACKET_IN');
    assert.deepEqual(p10.body, { buffer_id: 0xffffffff, total_len: 200, in_port: 5, reason: 1, data: pin().frame });
    const p13 = (await c13.kind('PACKET_IN')).body as { reason: number; table_id: number; cookie: bigint; match: object; data: Uint8Array; buffer_id: number };
    assert.deepEqual([p13.buffer_id, p13.reason, p13.table_id, p13.cookie, p13.data.length], [0xffffffff, 0, 3, 0x1234n, 200]);
    assert.deepEqual(p13.match, { in_port: { value: 5n }, metadata: { value: 0x99n } });
    assert.equal(((await c15.kind('PACKET_IN')).body as { reason: number }).reason, 0);
    const pn = (await nx.kind('NXT_PACKET_IN')).body;
    assert.deepEqual([pn.reason, pn.table_id, pn.cookie, pn.total_len], [0, 3, 0x1234n, 200]);
    const p2 = (await nx2.kind('NXT_PACKET_IN2')).body.properties as Array<{ type: number; value?: unknown; data?: Uint8Array }>;
    assert.deepEqual(p2.map((p) => p.type), [0, 3, 4, 5, 6, 7]);
    assert.equal(p2.find((p) => p.type === 5)!.value, 1, 'OF1.0 connection: ACTION');
    assert.deepEqual([...p2.find((p) => p.type === 7)!.data!], [9, 8]);

    // An implicit miss (no flow at all) reaches only the pre-1.3 connections.
    mgr.sendPacketIn(pin({ reason: 'no_match' }));
    assert.equal((await c10.kind('PACKET_IN')).body.reason, 0);
    await nx2.kind('NXT_PACKET_IN2');
    // OF1.4 reasons become ACTION below 1.4; 1.5 sees GROUP.
    mgr.sendPacketIn(pin({ reason: 'group' }));
    assert.equal(((await c13.kind('PACKET_IN')).body as { reason: number }).reason, 1);
    assert.equal(((await c15.kind('PACKET_IN')).body as { reason: number }).reason, 4);
    assert.equal((await c10.kind('PACKET_IN')).body.reason, 1);
    assert.equal((await nx.kind('NXT_PACKET_IN')).body.reason, 1);
    await Promise.all([c13.ping(4, 90), c15.ping(6, 90), nx.ping(4, 90)]);
    assert.ok(!c13.rx.some((r) => r.m?.kind === 'PACKET_IN') && !nx.rx.some((r) => r.m?.kind === 'NXT_PACKET_IN'),
      'the implicit miss never reached 1.3+');
    // Controller ids: only connections with the same id.
    c13.send({ version: 4, xid: 9, kind: 'NXT_SET_CONTROLLER_ID', body: { controller_id: 3 } } as OfMessage);
    await c13.ping(4, 91);
    mgr.sendPacketIn(pin({ controllerId: 3 }));
    await c13.kind('PACKET_IN');
    await Promise.all([c15.ping(6, 92), c10.ping(1, 92)]);
    assert.ok(!c15.rx.some((r) => r.m?.kind === 'PACKET_IN') && !c10.rx.some((r) => r.m?.kind === 'PACKET_IN'));
  });

  it('rate-limits packet-ins per connection: a burst, then the rate, the backlog capped and drops counted', async () => {
    const ps = new PacketInScheduler<number>(100, 10, () => t);
    let t = 0;
    const now: number[] = [];
    for (let i = 0; i < 40; i++) { const x = ps.send(i % 3, i); if (x !== null) now.push(x); }
    assert.deepEqual(now, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 'the burst goes straight out');
    assert.deepEqual(ps.stats(), { queued: 10, bypassed: 10, limited: 30, dropped: 20 });
    t = 50;
    assert.equal(ps.run().length, 5, '100/s: five in 50 ms');
    t = 1000;
    const rest = ps.run();
    assert.equal(rest.length, 5);
    assert.deepEqual(ps.stats().queued, 0);
    assert.equal(ps.nextWake(), null);
  });

  it('applies controller_rate_limit to a real controller connection and reports it in status', async () => {
    await fresh();
    const ctl = await controllerSocket(join(dir, 'ctl-rate.sock'));
    mgr.setControllers([{ target: `unix:${join(dir, 'ctl-rate.sock')}`, rateLimit: 100, burstLimit: 25, inactivityProbe: 0 }]);
    const c = await ctl.accept();
    await c.hello(1 << 4);
    await c.ping(4);
    for (let i = 0; i < 100; i++) mgr.sendPacketIn(pin({ reason: 'action', metadata: { in_port: { value: BigInt(i % 4) } } }));
    await sleep(50);
    const first = c.rx.filter((r) => r.m?.kind === 'PACKET_IN').length;
    assert.ok(first >= 25 && first <= 31, `burst of 25 (+ a few at 100/s), got ${first}`);
    await until(() => c.rx.filter((r) => r.m?.kind === 'PACKET_IN').length === 50, 2000, '50 packet-ins');
    const st = mgr.controllerStatus()[0]!.status;
    assert.equal(st['packet-in-action-dropped'], '50');
    assert.equal(st['packet-in-action-bypassed'], '25');
    assert.equal(st['packet-in-miss-queued'], '0');
    mgr.setControllers([]);
    await ctl.close();
  });

  it('reconnects with exponential backoff to a controller socket that comes and goes', async () => {
    await fresh();
    const path = join(dir, 'ctl-backoff.sock');
    mgr.setControllers([{ target: `unix:${path}`, maxBackoff: 2000 }]);
    await until(() => mgr.controllerStatus()[0]?.status.state === 'BACKOFF', 2000, 'BACKOFF');
    let st = mgr.controllerStatus()[0]!;
    assert.equal(st.isConnected, false);
    assert.equal(st.status.last_error, 'No such file or directory');
    const t0 = Date.now();
    const ctl = await controllerSocket(path);
    const c = await ctl.accept();
    assert.ok(Date.now() - t0 <= 2500, 'retried within max_backoff');
    await c.hello(1 << 4);
    await c.ping(4);
    st = mgr.controllerStatus()[0]!;
    assert.deepEqual([st.isConnected, st.role, st.status.state, st.status.sec_since_connect], [true, 'other', 'ACTIVE', '0']);
    assert.ok(mgr.hasControllers());
    // The same target configured again keeps the connection.
    mgr.setControllers([{ target: `unix:${path}`, maxBackoff: 2000, rateLimit: 200 }]);
    await c.ping(4, 5);
    // The controller goes away and comes back.
    await ctl.close();
    await until(() => !mgr.controllerStatus()[0]!.isConnected, 2000, 'disconnect');
    assert.equal(mgr.controllerStatus()[0]!.status.last_error, 'End of file');
    assert.ok(mgr.controllerStatus()[0]!.status.sec_since_disconnect !== undefined);
    const ctl2 = await controllerSocket(path);
    const c2 = await ctl2.accept();
    await c2.hello(1 << 1);
    await c2.ping(1);
    assert.equal(core.closedConns.length, 1, 'the core heard of the first session ending');
    mgr.setControllers([]);
    assert.equal(mgr.hasControllers(), false);
    await c2.done;
    await ctl2.close();
  });

  it('sends inactivity probes and drops a controller that does not answer', async () => {
    await fresh();
    const path = join(dir, 'ctl-probe.sock');
    const ctl = await controllerSocket(path);
    mgr.setControllers([{ target: `unix:${path}`, inactivityProbe: 1000, maxBackoff: 1000 }]);
    const c = await ctl.accept();
    await c.hello(1 << 4);
    const probe = await c.kind('ECHO_REQUEST', 3000);
    c.send({ version: 4, xid: probe.xid, kind: 'ECHO_REPLY', body: { data: new Uint8Array(0) } });
    assert.equal(mgr.controllerStatus()[0]!.isConnected, true);
    // Silence after the next probe: disconnected one probe interval later.
    await c.kind('ECHO_REQUEST', 3000);
    const t0 = Date.now();
    await c.done;
    assert.ok(Date.now() - t0 >= 800, 'waited a probe interval for the answer');
    assert.equal(mgr.controllerStatus()[0]!.status.last_error, 'Connection timed out');
    const again = await ctl.accept();
    await again.hello(1 << 4);
    mgr.setControllers([]);
    await ctl.close();
  });

  it('fails open in standalone mode after three probe intervals without a controller, and recovers', async () => {
    await fresh();
    const path = join(dir, 'ctl-failopen.sock');
    mgr.setControllers([{ target: `unix:${path}`, inactivityProbe: 1000, maxBackoff: 1000 }]);
    await sleep(1500);
    assert.deepEqual(core.failOpen, [], 'not before 3 s');
    await until(() => core.failOpen.length === 1, 4000, 'fail-open');
    assert.equal(mgr.isFailOpen(), true);
    const ctl = await controllerSocket(path);
    const c = await ctl.accept();
    await c.hello(1 << 4);
    c.send({ version: 4, xid: 1, kind: 'FEATURES_REQUEST', body: {} });
    await c.kind('FEATURES_REPLY');
    assert.equal(mgr.isFailOpen(), true, 'handshake messages do not count as acceptance');
    c.send({ version: 4, xid: 2, kind: 'BARRIER_REQUEST', body: {} });
    await c.kind('BARRIER_REPLY');
    assert.deepEqual(core.failOpen, [true, false]);
    // Secure mode never fails open.
    mgr.setFailMode('secure');
    mgr.setControllers([]);
    await ctl.close();
  });

  it('refuses a snoop without a controller; mirrors the controller traffic with one', async () => {
    await fresh();
    const s0 = await Client.connect(mgr.snoopPath);
    await s0.done;
    const path = join(dir, 'ctl-snoop.sock');
    const ctl = await controllerSocket(path);
    mgr.setControllers([{ target: `unix:${path}` }]);
    const c = await ctl.accept();
    await c.hello(1 << 4);
    await c.ping(4);
    const snoop = await Client.connect(mgr.snoopPath);
    clients.push(snoop);
    await snoop.hello(1 << 1);
    await sleep(50);
    c.send({ version: 4, xid: 0x42, kind: 'FEATURES_REQUEST', body: {} });
    await c.kind('FEATURES_REPLY');
    const req = await snoop.next((r) => r.m?.kind === 'FEATURES_REQUEST');
    const rep = await snoop.next((r) => r.m?.kind === 'FEATURES_REPLY');
    assert.deepEqual([req.m!.version, req.m!.xid, rep.m!.xid], [4, 0x42, 0x42], 'raw copies in the controller\'s version');
    const mgmt = await client(1 << 4);
    await mgmt.ping(4, 0x55);
    await sleep(50);
    assert.ok(!snoop.rx.some((r) => r.m?.xid === 0x55), 'management traffic is not mirrored');
    mgr.setControllers([]);
    await ctl.close();
  });

  it('takes 100 clients connecting at once and dropping', async () => {
    await fresh();
    const many = await Promise.all(Array.from({ length: 100 }, () => Client.connect(mgr.mgmtPath)));
    await Promise.all(many.map(async (c, i) => {
      await c.hello(i % 2 ? 1 << 4 : 1 << 1);
      await c.ping(i % 2 ? 4 : 1, i);
    }));
    assert.equal(mgr.connections().length, 100);
    for (const c of many) c.close();
    await until(() => mgr.connections().length === 0, 3000, 'all gone');
    assert.equal(core.closedConns.length, 100);
    const c = await client(1 << 4);
    await c.ping(4);
  });
});
