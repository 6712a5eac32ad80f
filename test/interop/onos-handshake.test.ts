// ONOS's OpenFlow 1.3 handshake, played exactly as shared/reference/CONTROLLERS.md
// describes ONOS's channel handler: the switch speaks first, the controller
// adopts the HELLO header version, then features, port descriptions, config,
// meter features, description, a MASTER role request with generation_id 0,
// and polling by consecutive xids. Runs against tsw-vswitchd and, to prove
// the scenario tests the switch, against Debian's ovs-vswitchd.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { SWITCH_IMPLS, okOutput, realOvsMissing, startRealOvs, type RealOvs } from './real-ovs.js';
import { startFakeController, type ControllerConn, type FakeController } from './fake-controller.js';
import type { OfMessage } from '../../src/openflow/index.js';

const missing = realOvsMissing() ?? (existsSync(join(import.meta.dirname, '..', '..', 'dist', 'vswitchd', 'main.js')) ? null : 'run npm run build first');

const OF13 = 4;
const mp = (xid: number, stat: string, body: unknown = {}): OfMessage =>
  ({ version: OF13, xid, kind: 'MULTIPART_REQUEST', body: { stat, flags: 0, body } }) as OfMessage;

for (const impl of SWITCH_IMPLS) {
  describe(`ONOS-style handshake against ${impl}`, { skip: missing ?? false }, () => {
    let stack: RealOvs;
    let ctrl: FakeController;
    let conn: ControllerConn;

    before(async () => {
      ctrl = await startFakeController();
      stack = await startRealOvs({ impl, bridges: ['br0'], ports: { br0: ['p1', 'p2'] }, protocols: ['OpenFlow13'] });
      okOutput(await stack.vsctl(['set-controller', 'br0', ctrl.target, '--', 'set', 'Controller', 'br0', 'inactivity_probe=2000']), 'set-controller');
      conn = await ctrl.accept();
    });
    after(async () => {
      conn?.close();
      await ctrl?.close();
      await stack?.stop();
    });

    it('the switch says HELLO first with header version 1.3', async () => {
      const hello = await conn.next('HELLO');
      assert.equal(hello.version, OF13);
      conn.send({ version: OF13, xid: 1, kind: 'HELLO', body: { elements: [] } } as unknown as OfMessage);
    });

    it('answers features, port descriptions, config, meter features and description', async () => {
      conn.send({ version: OF13, xid: 2, kind: 'FEATURES_REQUEST', body: {} });
      const f = await conn.next('FEATURES_REPLY', (m) => m.xid === 2);
      assert.equal((f.body as { datapath_id: bigint }).datapath_id, 1n);
      conn.send(mp(3, 'PORT_DESC'));
      const pd = await conn.next('MULTIPART_REPLY', (m) => m.xid === 3);
      const names = (pd.body.body as { entries: Array<{ name: string }> }).entries.map((p) => p.name).sort();
      assert.deepEqual(names, ['br0', 'p1', 'p2']);
      conn.send({ version: OF13, xid: 4, kind: 'BARRIER_REQUEST', body: {} });
      conn.send({ version: OF13, xid: 5, kind: 'GET_CONFIG_REQUEST', body: {} });
      await conn.next('BARRIER_REPLY', (m) => m.xid === 4);
      const cfg = await conn.next('GET_CONFIG_REPLY', (m) => m.xid === 5);
      assert.equal(cfg.body.miss_send_len, 128);
      conn.send(mp(6, 'METER_FEATURES'));
      const mf = await Promise.race([conn.next('MULTIPART_REPLY', (m) => m.xid === 6), conn.next('ERROR', (m) => m.xid === 6)]);
      assert.ok(mf.kind === 'MULTIPART_REPLY' || mf.kind === 'ERROR');
      conn.send(mp(7, 'DESC'));
      const d = await conn.next('MULTIPART_REPLY', (m) => m.xid === 7);
      assert.equal(d.body.stat, 'DESC');
    });

    it('grants MASTER with generation_id 0, echoing the xid', async () => {
      conn.send({ version: OF13, xid: 8, kind: 'ROLE_REQUEST', body: { role: 2, generation_id: 0n } } as unknown as OfMessage);
      const r = await conn.next('ROLE_REPLY', (m) => m.xid === 8);
      assert.equal((r.body as { role: number }).role, 2);
    });

    it('answers polls by consecutive xids with the same xids', async () => {
      conn.send(mp(9, 'PORT_STATS', { port_no: 0xffffffff }));
      conn.send(mp(10, 'FLOW', { table_id: 0xff, out_port: 0xffffffff, out_group: 0xffffffff, cookie: 0n, cookie_mask: 0n, match: {} }));
      conn.send(mp(11, 'GROUP_DESC'));
      conn.send(mp(12, 'GROUP', { id: 0xfffffffc }));
      conn.send(mp(0, 'METER', { id: 0xffffffff }));
      for (const [xid, stat] of [[9, 'PORT_STATS'], [10, 'FLOW'], [11, 'GROUP_DESC'], [12, 'GROUP'], [0, 'METER']] as const) {
        const m = await conn.next('MULTIPART_REPLY', (x) => x.xid === xid);
        assert.equal(m.body.stat, stat);
      }
    });

    it('stays up across echo probes in both directions', async () => {
      conn.send({ version: OF13, xid: 13, kind: 'ECHO_REQUEST', body: { data: new Uint8Array([1, 2, 3]) } } as unknown as OfMessage);
      const e = await conn.next('ECHO_REPLY', (m) => m.xid === 13);
      assert.deepEqual([...(e.body as { data: Uint8Array }).data], [1, 2, 3]);
      // Idle past the 2 s inactivity probe: the switch probes (answered automatically) and keeps the connection.
      await new Promise((r) => setTimeout(r, 5000));
      assert.equal(conn.isClosed(), false);
      const list = okOutput(await stack.vsctl(['--columns=is_connected,role', 'list', 'Controller']), 'list Controller');
      assert.match(list, /is_connected\s*: true/);
      assert.match(list, /role\s*: master/);
    });
  });
}
