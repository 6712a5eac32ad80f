// The reconciliation loop in-process against tsw-dbserver: configuration is
// written with `ovs-vsctl --no-wait`, then Switch.reconfigure() runs and its
// results are read back. Scenarios: running twice changes nothing, a
// restarted switch keeps the port numbers in the database, a port asking for
// a number another port holds gets it, a bridge with a controller gets a
// local port, and other_config:datapath-id wins.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { Idl } from '../../src/db/index.js';
import { NetdevRegistry, registerDummyClasses } from '../../src/netdev/index.js';
import { Switch, switchTableSelection } from '../../src/vswitchd/bridge.js';
import { Coverage } from '../../src/lib/index.js';
import { ROOT, startServer, tool, type RunningServer } from './db-server-helpers.js';

const skip = tool('ovs-vsctl') ? false : 'ovs-vsctl not installed';

describe('Switch reconciliation', { skip }, () => {
  let server: RunningServer;
  const idls: Idl[] = [];

  before(async () => {
    server = await startServer({ schemaFile: path.join(ROOT, 'schemas/vswitch.ovsschema') });
    vsctl('init');
  });

  after(async () => {
    current?.sw.destroyAll();
    for (const idl of idls) idl.close();
    await server.stop();
  });

  function vsctl(...args: string[]): string {
    return execFileSync('ovs-vsctl', ['--no-wait', `--db=unix:${server.sock}`, ...args], { encoding: 'utf8' }).trim();
  }

  let current: { sw: Switch; idl: Idl } | null = null;

  /** A fresh switch (the previous one, if any, goes away first and gives up the lock). */
  async function newSwitch(): Promise<{ sw: Switch; idl: Idl; coverage: Coverage }> {
    current?.idl.close();
    current?.sw.destroyAll();
    const idl = new Idl({ remote: `unix:${server.sock}`, tables: switchTableSelection(), lock: 'ovs_vswitchd', reconnect: true });
    idls.push(idl);
    await idl.connect();
    await idl.waitFor(() => idl.hasLock, 5000);
    const registry = new NetdevRegistry();
    registerDummyClasses(registry, 'override', ['system', 'internal']);
    const coverage = new Coverage();
    const sw = new Switch({ idl, registry, coverage, datapathTypes: ['netdev', 'system'], rundir: fs.mkdtempSync(path.join(os.tmpdir(), 'tsw-reconcile-run-')) });
    current = { sw, idl };
    return { sw, idl, coverage };
  }

  /** Lets the IDL see everything committed so far (next_cfg bumped by a no-op write). */
  async function sync(idl: Idl): Promise<void> {
    const want = Number(vsctl('get', 'Open_vSwitch', '.', 'next_cfg')) + 1;
    vsctl('set', 'Open_vSwitch', '.', `next_cfg=${want}`);
    await idl.waitFor(() => [...idl.table('Open_vSwitch').values()][0]?.get('next_cfg').keys[0] === want, 5000);
  }

  it('applies a configuration once; a second run has nothing to write', async () => {
    const { sw, idl, coverage } = await newSwitch();
    vsctl('add-br', 'br0', '--', 'add-port', 'br0', 'p1', '--', 'add-port', 'br0', 'p2', '--', 'add-port', 'br0', 'p3',
      '--', 'set', 'Interface', 'p3', 'ofport_request=1');
    await sync(idl);
    assert.equal((await sw.reconfigure()).status, 'success');
    assert.deepEqual(Object.fromEntries(sw.ofports().get('br0')!), { br0: 65534, p1: 2, p2: 3, p3: 1 });
    assert.equal(vsctl('get', 'Open_vSwitch', '.', 'cur_cfg'), vsctl('get', 'Open_vSwitch', '.', 'next_cfg'));
    assert.deepEqual(await sw.reconfigure(), { ran: false, status: 'unchanged config' });
    assert.deepEqual(await sw.reconfigure(true), { ran: true, status: 'unchanged' });
    assert.equal(coverage.total('netdev_open'), 4);
  });

  it('a restarted switch keeps the port numbers the database holds', async () => {
    vsctl('del-port', 'p1');   // leaves p2 at 3 with 2 free, so a fresh count would give p2 the number 2
    const { sw, idl } = await newSwitch();
    await sync(idl);
    await sw.reconfigure();
    assert.deepEqual(Object.fromEntries(sw.ofports().get('br0')!), { br0: 65534, p2: 3, p3: 1 });
  });

  it('a port requesting a number another port holds takes it; the other is renumbered', async () => {
    const { sw, idl } = await newSwitch();
    await sync(idl);
    await sw.reconfigure();
    vsctl('set', 'Interface', 'p2', 'ofport_request=1', '--', 'clear', 'Interface', 'p3', 'ofport_request');
    await sync(idl);
    await sw.reconfigure();
    const ports = sw.ofports().get('br0')!;
    assert.equal(ports.get('p2'), 1);
    assert.notEqual(ports.get('p3'), 1);
    assert.equal(vsctl('get', 'Interface', 'p2', 'ofport'), '1');
    assert.equal(vsctl('get', 'Interface', 'p3', 'ofport'), String(ports.get('p3')));
  });

  it('synthesizes the local port of a bridge with a controller but no port of its name', async () => {
    const { sw, idl } = await newSwitch();
    vsctl('--id=@c', 'create', 'Controller', 'target="tcp:127.0.0.1:6653"', '--', '--id=@b', 'create', 'Bridge', 'name=br1',
      'controller=@c', '--', 'add', 'Open_vSwitch', '.', 'bridges', '@b');
    await sync(idl);
    await sw.reconfigure();
    assert.deepEqual(Object.fromEntries(sw.ofports().get('br1')!), { br1: 65534 });
    assert.equal(vsctl('--columns=name', 'find', 'Interface', 'name=br1'), '');
  });

  it('other_config:datapath-id overrides the derived datapath_id; removing the bridge closes its netdevs', async () => {
    const { sw, idl } = await newSwitch();
    vsctl('set', 'Bridge', 'br0', 'other_config:datapath-id=00000000000000ab');
    await sync(idl);
    await sw.reconfigure();
    assert.equal(vsctl('get', 'Bridge', 'br0', 'datapath_id'), '"00000000000000ab"');
    vsctl('del-br', 'br0');
    await sync(idl);
    await sw.reconfigure();
    assert.deepEqual(sw.bridgeNames(), ['br1']);
  });
});
