// os-ken (Debian's maintained Ryu) as the controller of a bridge: it
// negotiates OpenFlow 1.3, reads features, port descriptions and the
// description, becomes master, installs flows and a group, and receives
// PACKET_IN and FLOW_REMOVED; a second os-ken as slave is refused table
// changes; when the controllers die, fail_mode secure keeps the flows and
// standalone falls back to NORMAL switching. Run against tsw-vswitchd and
// Debian's ovs-vswitchd (the scenario must hold for both).

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as net from 'node:net';
import { join } from 'node:path';
import { composePacket } from '../../src/flow/index.js';
import { parseFlow } from '../../src/openflow/index.js';
import { SWITCH_IMPLS, okOutput, realOvsMissing, startRealOvs, type RealOvs } from './real-ovs.js';

const APP = join(import.meta.dirname, 'osken_scenario.py');
const missing = realOvsMissing()
  ?? (existsSync('/usr/bin/osken-manager') ? null : 'osken-manager is not installed (apt-get install python3-os-ken)')
  ?? (existsSync(join(import.meta.dirname, '..', '..', 'dist', 'vswitchd', 'main.js')) ? null : 'run npm run build first');

interface Osken { child: ChildProcess; events: Array<Record<string, unknown>>; wait(pred: (e: Record<string, unknown>) => boolean, what: string, ms?: number): Promise<Record<string, unknown>>; stop(): Promise<void> }

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => res(port));
    });
    s.on('error', rej);
  });
}

function startOsken(port: number, role: 'master' | 'slave', listen: readonly string[] = ['--ofp-tcp-listen-port', String(port)]): Osken {
  const child = spawn('/usr/bin/osken-manager', ['--ofp-listen-host', '127.0.0.1', ...listen, APP], {
    env: { ...process.env, OSKEN_ROLE: role }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  const events: Array<Record<string, unknown>> = [];
  let log = '';
  const waiters: Array<() => void> = [];
  let buf = '';
  child.stdout!.on('data', (b: Buffer) => {
    buf += b.toString();
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (line.startsWith('EVENT ')) events.push(JSON.parse(line.slice(6)) as Record<string, unknown>);
    }
    waiters.splice(0).forEach((w) => w());
  });
  child.stderr!.on('data', (b: Buffer) => { if (log.length < 100_000) log += b.toString(); });
  const exited = new Promise<void>((res) => child.once('exit', () => res()));
  return {
    child, events,
    wait: (pred, what, ms = 15_000) => new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`os-ken: no ${what} within ${ms} ms; events ${JSON.stringify(events)}\n${log.slice(-3000)}`)), ms);
      const check = (): void => {
        const e = events.find(pred);
        if (e) {
          clearTimeout(timer);
          resolve(e);
        } else {
          waiters.push(check);
        }
      };
      check();
    }),
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

async function until(pred: () => Promise<boolean>, what: string, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await pred())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

// A UDP frame from 50:54:00:00:00:01 to 50:54:00:00:00:02, as hex (the one packet syntax both switches' netdev-dummy/receive take).
const PACKET = Buffer.from(composePacket(parseFlow(
  'in_port=1,dl_src=50:54:00:00:00:01,dl_dst=50:54:00:00:00:02,udp,nw_src=10.0.0.1,nw_dst=10.0.0.2,tp_src=1000,tp_dst=2000,actions=drop').match)).toString('hex');

async function txPackets(stack: RealOvs, port: number): Promise<number> {
  const out = okOutput(await stack.ofctl(['-O', 'OpenFlow13', 'dump-ports', 'br0', String(port)]), 'dump-ports');
  const m = /tx pkts=(\d+)/.exec(out);
  return m ? Number(m[1]) : -1;
}

for (const impl of SWITCH_IMPLS) {
  describe(`os-ken controlling ${impl}`, { skip: missing ?? false }, () => {
    let stack: RealOvs;
    let master: Osken;
    let slave: Osken | null = null;
    let masterPort: number;

    before(async () => {
      stack = await startRealOvs({ impl, bridges: ['br0'], ports: { br0: ['p1', 'p2'] }, protocols: ['OpenFlow13'] });
      masterPort = await freePort();
      master = startOsken(masterPort, 'master');
      okOutput(await stack.vsctl(['set-fail-mode', 'br0', 'secure', '--', 'set-controller', 'br0', `tcp:127.0.0.1:${masterPort}`,
        '--', 'set', 'Controller', 'br0', 'inactivity_probe=1000', 'max_backoff=1000']), 'set-controller');
    });
    after(async () => {
      await master?.stop();
      await slave?.stop();
      await stack?.stop();
    });

    it('negotiates 1.3 and reads features, port descriptions and description as master', async () => {
      const f = await master.wait((e) => e.event === 'features', 'features');
      assert.equal(f.version, 4);
      assert.equal(f.dpid, 1);
      const r = await master.wait((e) => e.event === 'role', 'role reply');
      assert.equal(r.role, 2);
      const pd = await master.wait((e) => e.event === 'port_desc', 'port desc');
      assert.deepEqual(pd.ports, ['br0', 'p1', 'p2']);
      await master.wait((e) => e.event === 'desc', 'desc');
      await master.wait((e) => e.event === 'barrier', 'barrier after flows');
    });

    it('installs flows and a group the switch reports back', async () => {
      const flows = okOutput(await stack.ofctl(['-O', 'OpenFlow13', 'dump-flows', 'br0']), 'dump-flows');
      assert.match(flows, /priority=20,in_port=2 actions=group:1/);
      assert.match(flows, /priority=0 actions=CONTROLLER:65535/);
      const groups = okOutput(await stack.ofctl(['-O', 'OpenFlow13', 'dump-groups', 'br0']), 'dump-groups');
      assert.match(groups, /group_id=1,type=all,bucket=actions=output:1,bucket=actions=output:2/);
    });

    it('sends a table-miss PACKET_IN with the whole frame', async () => {
      okOutput(await stack.appctl(['netdev-dummy/receive', 'p1', PACKET]), 'netdev-dummy/receive');
      const pin = await master.wait((e) => e.event === 'packet_in', 'packet-in');
      assert.equal(pin.in_port, 1);
      assert.equal(pin.reason, 0);
      assert.equal(pin.buffer_id, 0xffffffff);
      assert.equal(pin.length, pin.total_len);
    });

    it('reports the hard timeout of a send_flow_rem flow with FLOW_REMOVED', async () => {
      const fr = await master.wait((e) => e.event === 'flow_removed', 'flow removed', 10_000);
      assert.equal(fr.cookie, 0x77);
      assert.equal(fr.reason, 1);
    });

    it('keeps a second controller as slave and refuses its table changes', async () => {
      const port = await freePort();
      slave = startOsken(port, 'slave');
      okOutput(await stack.vsctl(['set-controller', 'br0', `tcp:127.0.0.1:${masterPort}`, `tcp:127.0.0.1:${port}`]), 'two controllers');
      const r = await slave.wait((e) => e.event === 'role', 'slave role reply');
      assert.equal(r.role, 3);
      const err = await slave.wait((e) => e.event === 'error', 'IS_SLAVE error');
      assert.deepEqual([err.type, err.code], [1, 10]);
    });

    it('fail_mode secure keeps the flows when the controllers die', async () => {
      await master.stop();
      await slave?.stop();
      await new Promise((r) => setTimeout(r, 3000));
      const flows = okOutput(await stack.ofctl(['-O', 'OpenFlow13', 'dump-flows', 'br0']), 'dump-flows');
      assert.match(flows, /actions=group:1/);
      const before = await txPackets(stack, 2);
      okOutput(await stack.appctl(['netdev-dummy/receive', 'p1', PACKET]), 'receive');
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(await txPackets(stack, 2), before, 'secure mode must not switch on its own');
    });

    it('fail_mode standalone falls back to NORMAL switching', async () => {
      okOutput(await stack.vsctl(['set-fail-mode', 'br0', 'standalone']), 'standalone');
      const before = await txPackets(stack, 2);
      await until(async () => {
        okOutput(await stack.appctl(['netdev-dummy/receive', 'p1', PACKET]), 'receive');
        return (await txPackets(stack, 2)) > before;
      }, 'NORMAL forwarding from p1 to p2 in fail-open', 40_000);
    });
  });
}

/** A CA, and certificates it signs for the switch and the controller (plus a rogue controller certificate it does not sign). */
async function makePki(dir: string): Promise<Record<string, string>> {
  const { execFileSync } = await import('node:child_process');
  const f = (n: string) => join(dir, n);
  const ssl = (args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  ssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('ca-key.pem'), '-out', f('ca-cert.pem'), '-days', '2', '-subj', '/CN=tsw test CA']);
  for (const who of ['switch', 'ctl', 'rogue']) {
    ssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', f(`${who}-key.pem`), '-out', f(`${who}-req.pem`), '-subj', `/CN=${who}`]);
    if (who === 'rogue') {
      ssl(['x509', '-req', '-in', f(`${who}-req.pem`), '-signkey', f(`${who}-key.pem`), '-out', f(`${who}-cert.pem`), '-days', '2']);
    } else {
      ssl(['x509', '-req', '-in', f(`${who}-req.pem`), '-CA', f('ca-cert.pem'), '-CAkey', f('ca-key.pem'), '-CAcreateserial', '-out', f(`${who}-cert.pem`), '-days', '2']);
    }
  }
  return Object.fromEntries(['ca-cert', 'switch-key', 'switch-cert', 'ctl-key', 'ctl-cert', 'rogue-key', 'rogue-cert'].map((n) => [n, f(`${n}.pem`)]));
}

function startOskenSsl(port: number, pki: Record<string, string>, who: 'ctl' | 'rogue'): Osken {
  return startOsken(port, 'master', [
    '--ofp-ssl-listen-port', String(port), '--ofp-tcp-listen-port', '0',
    '--ctl-privkey', pki[`${who}-key`]!, '--ctl-cert', pki[`${who}-cert`]!, '--ca-certs', pki['ca-cert']!,
  ]);
}

for (const impl of SWITCH_IMPLS) {
  describe(`os-ken controlling ${impl} over mutual TLS`, { skip: missing ?? false }, () => {
    let stack: RealOvs;
    let ctl: Osken | null = null;
    let pki: Record<string, string>;

    before(async () => {
      stack = await startRealOvs({ impl, bridges: ['br0'], ports: { br0: ['p1', 'p2'] }, protocols: ['OpenFlow13'] });
      pki = await makePki(stack.rundir);
      okOutput(await stack.vsctl(['set-ssl', pki['switch-key']!, pki['switch-cert']!, pki['ca-cert']!]), 'set-ssl');
    });
    after(async () => {
      await ctl?.stop();
      await stack?.stop();
    });

    it('a controller whose certificate the CA did not sign never gets a session', async () => {
      const port = await freePort();
      ctl = startOskenSsl(port, pki, 'rogue');
      okOutput(await stack.vsctl(['set-fail-mode', 'br0', 'secure', '--', 'set-controller', 'br0', `ssl:127.0.0.1:${port}`,
        '--', 'set', 'Controller', 'br0', 'max_backoff=1000']), 'set-controller');
      await new Promise((r) => setTimeout(r, 4000));
      assert.equal(ctl.events.filter((e) => e.event === 'features').length, 0, 'no handshake with an unsigned peer');
      const connected = okOutput(await stack.vsctl(['get', 'Controller', 'br0', 'is_connected']), 'is_connected').trim();
      assert.equal(connected, 'false');
      await ctl.stop();
      ctl = null;
    });

    it('negotiates 1.3 over ssl:, becomes master, installs flows and hears PACKET_IN', async () => {
      const port = await freePort();
      ctl = startOskenSsl(port, pki, 'ctl');
      okOutput(await stack.vsctl(['set-controller', 'br0', `ssl:127.0.0.1:${port}`, '--', 'set', 'Controller', 'br0', 'max_backoff=1000']), 'set-controller');
      const f = await ctl.wait((e) => e.event === 'features', 'features over TLS', 20_000);
      assert.equal(f.version, 4);
      assert.equal((await ctl.wait((e) => e.event === 'role', 'role reply')).role, 2);
      await ctl.wait((e) => e.event === 'barrier', 'barrier after flows');
      const flows = okOutput(await stack.ofctl(['-O', 'OpenFlow13', 'dump-flows', 'br0']), 'dump-flows');
      assert.match(flows, /priority=0 actions=CONTROLLER:65535/);
      okOutput(await stack.appctl(['netdev-dummy/receive', 'p1', PACKET]), 'netdev-dummy/receive');
      const pin = await ctl.wait((e) => e.event === 'packet_in', 'packet-in over TLS');
      assert.equal(pin.in_port, 1);
      await until(async () => okOutput(await stack.vsctl(['get', 'Controller', 'br0', 'is_connected']), 'is_connected').trim() === 'true', 'is_connected');
    });
  });
}
