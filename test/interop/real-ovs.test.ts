// The real-OVS harness works (a bridge on the userspace datapath answers
// ovs-ofctl; stop() leaves no process behind), and the captured OpenFlow
// fixtures are complete and decode cleanly with the real ovs-ofctl.

import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { okOutput, onPath, realOvsMissing, runTool, startRealOvs, type RealOvs } from './real-ovs.js';

const fixtures = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'openflow');

/** Every capture scripts/capture-openflow.mjs makes; `.gz` where the raw pcap is over 1 MB. */
const CAPTURES = [
  'ofctl-of10.pcap', 'ofctl-of13.pcap', 'ofctl-of14.pcap', 'ofctl-of15.pcap',
  'ofctl-names-of13.pcap.gz', 'ofctl-names-of14.pcap.gz', 'ofctl-names-of15.pcap.gz',
  'osken-of13.pcap',
];

function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch { return false; }
}

describe('real Open vSwitch harness', () => {
  const missing = realOvsMissing();
  let ovs: RealOvs | null = null;
  after(async () => { await ovs?.stop(); });

  test('a netdev bridge answers ovs-ofctl, and stop() ends both daemons', { skip: missing ?? false }, async () => {
    ovs = await startRealOvs({ bridges: ['br0'], ports: { br0: ['p1', 'p2'] } });
    const { rundir, pids } = ovs;
    assert.equal(okOutput(await ovs.vsctl(['get', 'Bridge', 'br0', 'datapath_type']), 'get datapath_type').trim(), 'netdev');
    assert.ok(existsSync(ovs.mgmt('br0')), 'br0.mgmt exists');

    const show = okOutput(await ovs.ofctl(['show', 'br0']), 'ovs-ofctl show');
    assert.match(show, /^OFPT_FEATURES_REPLY \(xid=0x\w+\): dpid:0000000000000001$/m);
    assert.match(show, /^ 1\(p1\): addr:/m);
    assert.match(show, /^ 2\(p2\): addr:/m);
    assert.match(show, /^ LOCAL\(br0\): addr:/m);

    okOutput(await ovs.ofctl(['add-flow', 'br0', 'priority=10,in_port=1,ip,nw_dst=10.0.0.0/8,actions=mod_vlan_vid:5,output:2']), 'add-flow');
    okOutput(await ovs.ofctl(['-O', 'OpenFlow13', 'add-flow', 'br0', 'table=1,priority=5,tcp,tp_dst=80,actions=drop']), 'add-flow OF1.3');
    // The NORMAL flow is the one a new bridge (fail_mode standalone) starts with.
    const flows = okOutput(await ovs.ofctl(['--no-stats', '--names', 'dump-flows', 'br0']), 'dump-flows');
    assert.deepEqual(flows.trim().split('\n').map((l) => l.trim()), [
      'priority=10,ip,in_port=p1,nw_dst=10.0.0.0/8 actions=mod_vlan_vid:5,output:p2',
      'priority=0 actions=NORMAL',
      'table=1, priority=5,tcp,tp_dst=80 actions=drop',
    ]);

    // A packet on a dummy port goes through the userspace datapath: the flow counts it.
    const frame = '5054000000025054000000010800' + '45000014000100004000' + '0000' + '0a0000010a000002';
    okOutput(await ovs.appctl(['netdev-dummy/receive', 'p1', frame.padEnd(120, '0')]), 'netdev-dummy/receive');
    let counted = '';
    for (let i = 0; i < 50 && !/n_packets=1,/.test(counted); i++) {
      counted = okOutput(await ovs.ofctl(['dump-flows', 'br0', 'table=0']), 'dump-flows');
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.match(counted, /n_packets=1,/);

    assert.match(okOutput(await ovs.appctl(['version']), 'appctl version'), /ovs-vswitchd \(Open vSwitch\) \d/);
    assert.ok(alive(pids.ovsdbServer) && alive(pids.vswitchd));
    await ovs.stop();
    ovs = null;
    assert.ok(!alive(pids.ovsdbServer), 'ovsdb-server is gone');
    assert.ok(!alive(pids.vswitchd), 'ovs-vswitchd is gone');
    assert.ok(!existsSync(rundir), 'temp dir removed');
  });
});

describe('captured OpenFlow fixtures', () => {
  const haveOfctl = onPath('ovs-ofctl');
  const tmp = mkdtempSync(join(os.tmpdir(), 'tsw-fixtures-'));
  after(() => rmSync(tmp, { recursive: true, force: true }));

  for (const name of CAPTURES) {
    const file = join(fixtures, name);
    const base = name.replace(/\.gz$/, '');
    const text = join(fixtures, `${base}.txt`);

    test(`${name} is there, small, and has its reference text`, () => {
      assert.ok(existsSync(file), `${file} missing: run scripts/capture-openflow.mjs`);
      assert.ok(statSync(file).size < 1_000_000, `${name} is over 1 MB`);
      assert.ok(existsSync(text), `${text} missing`);
      const messages = readFileSync(text, 'utf8').split('\n').filter((l) => /^[\d.]+ > [\d.]+:$/.test(l)).length;
      assert.ok(messages >= 40, `${name}: only ${messages} messages`);
    });

    test(`ovs-ofctl ofp-parse-pcap ${name}: no undecodable message, same as the stored text`, { skip: haveOfctl ? false : 'ovs-ofctl is not installed' }, async () => {
      let pcap = file;
      if (name.endsWith('.gz')) {
        pcap = join(tmp, base);
        writeFileSync(pcap, gunzipSync(readFileSync(file)));
      }
      const r = await runTool('ovs-ofctl', ['ofp-parse-pcap', pcap], process.env, { timeoutMs: 60_000 });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stderr, '');
      assert.equal(r.stdout, readFileSync(text, 'utf8'), 'the stored text is what this ovs-ofctl prints');
      // ofp-print marks what it cannot decode with ***...***. The only ones
      // allowed are requests made bad on purpose, which the switch answered
      // with an OFPT_ERROR of the same xid and code.
      for (const m of r.stdout.matchAll(/^(.*)\(xid=(0x[0-9a-f]+)\): \*\*\*decode error: (\w+)\*\*\*$/gm)) {
        const answered = new RegExp(`^OFPT_ERROR .*\\(xid=${m[2]}\\): ${m[3]}$`, 'm').test(r.stdout);
        assert.ok(answered, `${name}: undecodable message with no matching error reply: ${m[0]}`);
      }
      // OVS 3.1 prints an OF1.4+ TABLE_MOD that leaves eviction alone (e.g.
      // `mod-table 0 vacancy:20,80`) as `eviction=***error***`: a quirk of
      // the printer, not a decoding failure; tsw prints it the same way.
      const marks = r.stdout.split('\n').filter((l) => l.includes('***')
        && !/\*\*\*decode error: \w+\*\*\*$/.test(l)
        && !/^OFPT_TABLE_MOD \(OF1\.[45]\) \(xid=0x\w+\): table_id=\d+, eviction=\*\*\*error\*\*\*, /.test(l));
      assert.deepEqual(marks, [], `${name}: ofp-print flagged these`);
    });
  }
});
