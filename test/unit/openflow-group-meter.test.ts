// Groups and meters in the ovs-ofctl syntax against the real ovs-ofctl:
// - every group string is parsed, encoded (NXT_GROUP_MOD for OF1.0, GROUP_MOD
//   for OF1.3 and OF1.5), decoded and printed, and must read as `ovs-ofctl
//   parse-group` prints it; ovs-ofctl ofp-print must print our bytes the same;
// - every meter string is parsed and encoded as METER_MOD, and the bytes must
//   equal those ovs-ofctl add-meter sends to a switch, print as ovs-ofctl
//   ofp-print prints them, and bad strings fail with ovs-ofctl's message.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OfError, OfFramer, decodeMessage, encodeMessage, makeHello, type OfMessage } from '../../src/openflow/index.js';
import {
  FlowSyntaxError, formatGroupMod, formatMeter, formatMeterMod, groupModFromWire, groupModMessage, meterModFromWire, meterModMessage,
  nxGroupModBytes, nxGroupModFromBytes, parseGroupModText, parseMeterMod, protocolsToString, type TextGroupMod,
} from '../../src/openflow/text/index.js';

const hasOfctl = spawnSync('ovs-ofctl', ['--version']).status === 0;
const skip = hasOfctl ? false : 'ovs-ofctl not installed';
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

// Group strings from ovs-ofctl(8) and ovs-fields usage: every type, every bucket option, selection methods.
const GROUPS = [
  'group_id=1,type=all,bucket=actions=output:1',
  'group_id=1,type=all,bucket=output:1,bucket=output:2',
  'group_id=2,type=all,bucket=actions=output:1,bucket=actions=output:2,bucket=actions=output:3',
  'group_id=1234,type=select,bucket=actions=output:1,bucket=actions=output:2',
  'group_id=1,type=select,bucket=weight:100,watch_port:2,actions=output:1',
  'group_id=1,type=select,bucket=weight:5,actions=1,bucket=weight:7,actions=2',
  'group_id=1,type=select,bucket=weight:0,actions=1',
  'group_id=1,type=select,bucket=weight:65535,actions=1',
  'group_id=3,type=indirect,bucket=actions=output:3',
  'group_id=3,type=indirect,bucket=actions=mod_dl_src:00:11:22:33:44:55,output:3',
  'group_id=4,type=ff,bucket=watch_port:1,actions=output:1,bucket=watch_port:2,actions=output:2',
  'group_id=4,type=fast_failover,bucket=watch_group:7,actions=output:1',
  'group_id=4,type=ff,bucket=watch_port:CONTROLLER,watch_group:2,actions=CONTROLLER:100',
  'group_id=5,type=all',
  'group_id=5,type=select',
  'group_id=4294967040,type=all,bucket=actions=drop',
  'group_id=6,type=all,bucket=actions=drop',
  'group_id=7,type=all,bucket=bucket_id:5,actions=output:1',
  'group_id=7,type=all,bucket=bucket_id:5,actions=output:1,bucket=actions=output:2,bucket=bucket_id:0,actions=3',
  'group_id=7,type=select,bucket=bucket_id:10,actions=1,bucket=bucket_id:20,actions=2',
  'group_id=8,type=select,selection_method=hash,bucket=actions=1',
  'group_id=8,type=select,selection_method=hash,fields(ip_src,tcp_dst=0xff00),bucket=actions=1',
  'group_id=8,type=select,selection_method=hash,fields=ip_dst,bucket=actions=1',
  'group_id=8,type=select,selection_method=hash,fields(tcp_dst,ip_src,eth_dst),bucket=actions=1',
  'group_id=8,type=select,selection_method=hash,fields(ip_src=255.255.255.0,eth_src=ff:ff:ff:00:00:00),bucket=actions=1',
  'group_id=8,type=select,selection_method=hash,selection_method_param=5,fields(ipv6_src),bucket=actions=1',
  'group_id=8,type=select,selection_method=dp_hash,selection_method_param=7,bucket=weight:5,actions=1,bucket=weight:7,actions=2',
  'group_id=9,type=all,bucket=actions=set_field:00:00:00:00:00:01->eth_dst,output:2',
  'group_id=9,type=all,bucket=actions=mod_vlan_vid:10,output:2,bucket=actions=strip_vlan,output:3',
  'group_id=9,type=all,bucket=actions=mod_vlan_vid:10,mod_vlan_pcp:3,output:2',
  'group_id=9,type=all,bucket=actions=push_vlan:0x8100,output:1',
  'group_id=9,type=all,bucket=actions=set_field:5->reg0,resubmit(,3)',
  'group_id=9,type=all,bucket=actions=load:0x5->NXM_NX_REG1[0..7],output:1',
  'group_id=9,type=all,bucket=actions=group:10',
  'group_id=9,type=all,bucket=actions=set_queue:2,output:1',
  'group_id=9,type=all,bucket=actions=dec_ttl,output:1',
  'group_id=9,type=all,bucket=actions=note:01.02,output:1',
  'group_id=9,type=all,bucket=actions=ct(commit,zone=1),output:1',
  'group_id=10,type=select,bucket=mod_nw_src:1.2.3.4,output:1',
  'group_id=all,type=all,bucket=actions=1',
  '  group_id=11 type=all bucket=actions=1',
];

// Bad groups: the message after "ovs-ofctl: ".
const BAD_GROUPS = [
  'type=all,bucket=actions=1',
  'group_id=1',
  'group_id=1,type=foo',
  'group_id=1,type=all,bucket=weight:5,actions=1',
  'group_id=1,type=indirect,bucket=actions=1,bucket=actions=2',
  'group_id=1,type=ff,bucket=actions=1',
  'group_id=1,type=all,bucket=watch_port:2',
  'group_id=1,type=select,bucket=weight:70000,actions=1',
  'group_id=1,type=all,bucket=watch_port:foo,actions=1',
  'group_id=4,type=ff,bucket=watch_port:LOCAL,actions=LOCAL',
  'group_id=1,type=all,bucket=watch_port:65280,actions=1',
  'group_id=1,type=all,bucket=watch_group:4294967295,actions=1',
  'group_id=1,type=all,bucket=bucket_id:4294967295,actions=1',
  'group_id=4294967295,type=all',
  'group_id=x,type=all',
  'group_id=,type=all',
  'group_id=1,type=all,foo=bar',
  'group_id=1,type=select,fields(ip_src),bucket=actions=1',
  'group_id=1,type=select,selection_method_param=5,bucket=actions=1',
  'group_id=1,type=select,selection_method=abcdefghijklmnopq,bucket=actions=1',
  'group_id=1,type=select,selection_method=hash,fields(foo),bucket=actions=1',
  'group_id=1,type=select,selection_method=hash,fields(ip_src,ip_src),bucket=actions=1',
  'group_id=1,type=all,command_bucket_id=1',
  'group_id=1,type=all,bucket=actions=foo',
  'group_id=1,type=all,bucket=actions=output:foo',
  'group_id=1,type=all,bucket=actions=meter:1',
  'group_id=1,type=all,bucket=actions=push_vlan:0x8100',
];

// Meters (ovs-ofctl(8) Meter Syntax): flags, both band types, several bands, the special ids.
const METERS = [
  'meter=1,kbps,bands=type=drop rate=1000',
  'meter=1,kbps,band=type=drop,rate=1000',
  'meter=1,kbps,burst,bands=type=drop rate=1000 burst_size=100',
  'meter=1,kbps,burst,band=type=drop,rate=1000,burst_size=100',
  'meter=2,pktps,band=type=dscp_remark,rate=100,prec_level=1',
  'meter=2,pktps,burst,band=type=dscp_remark,rate=100,burst_size=10,prec_level=2',
  'meter=3,kbps,stats,bands=type=drop rate=10',
  'meter=3,kbps,burst,stats,bands=type=drop rate=10 burst_size=20',
  'meter=4,pktps,bands=type=drop rate=1,type=dscp_remark rate=2 prec_level=3',
  'meter=4,kbps,bands=type=dscp_remark rate=5 prec_level=255,type=drop rate=50',
  'meter=5,kbps,pktps,bands=type=drop rate=1',
  'meter=4294901760,kbps,bands=type=drop rate=1',
  'meter=0x10,kbps,bands=type=drop rate=0x20',
  'meter=7 kbps bands=type=drop rate=4294967295',
  'meter=controller,pktps,bands=type=drop rate=100',
  'meter=slowpath,pktps,bands=type=drop rate=100',
  'meter=all,kbps,bands=type=drop rate=100',
  'meter=8,kbps,burst,bands=type=drop rate=1 burst_size=1,type=drop rate=2 burst_size=2,type=drop rate=3 burst_size=3',
];

const BAD_METERS = [
  'meter=1,kbps',
  'meter=1,bands=type=drop rate=1',
  'kbps,bands=type=drop rate=1',
  'meter=0,kbps,bands=type=drop rate=1',
  'meter=4294901761,kbps,bands=type=drop rate=1',
  'meter=x,kbps,bands=type=drop rate=1',
  'meter=1,kbps,foo=2,bands=type=drop rate=1',
  'meter=1,kbps,bands=',
  'meter=1,kbps,bands=rate=1',
  'meter=1,kbps,bands=type=foo rate=1',
  'meter=1,kbps,bands=type=drop',
  'meter=1,kbps,bands=type=drop rate=1 burst_size=5',
  'meter=1,kbps,burst,bands=type=drop rate=1',
  'meter=1,kbps,bands=type=dscp_remark rate=1',
  'meter=1,kbps,bands=type=drop rate=1 prec_level=2',
  'meter=1,kbps,bands=type=dscp_remark rate=1 prec_level=300',
  'meter=1,kbps,bands=type=drop rate=1 color=red',
  'meter=1,kbps,bands=type=drop rate=x',
  'meter=1,kbps,bands=type=drop rate',
];

/** Groups whose OF1.0 encoding needs the Nicira group action, which the codec does not have yet. */
const NOT_ENCODABLE_OF10 = new Set(['group_id=9,type=all,bucket=actions=group:10']);

function ovsParseGroup(version: string | undefined, g: string): { status: number | null; out: string; err: string } {
  const r = spawnSync('ovs-ofctl', [...(version ? ['-O', version] : []), 'parse-group', g], { encoding: 'utf8' });
  return { status: r.status, out: r.stdout, err: r.stderr.trim().split('\n').pop()?.replace(/^ovs-ofctl: /, '') ?? '' };
}

function ovsOfpPrint(bytes: Uint8Array): string {
  return spawnSync('ovs-ofctl', ['ofp-print', hex(bytes)], { encoding: 'utf8' }).stdout;
}

/** Our bytes for a group in OVS's version, decoded and printed back: [bytes, "NAME (xid=0x1):\n ADD ..."]. */
function ourGroup(g: TextGroupMod, version: number): [Uint8Array, string] {
  if (version === 1) {
    const bytes = nxGroupModBytes(g);
    return [bytes, 'NXT_GROUP_MOD (xid=0x1):' + formatGroupMod(nxGroupModFromBytes(bytes), 1) + '\n'];
  }
  const bytes = encodeMessage(groupModMessage(g, version));
  return [bytes, `OFPT_GROUP_MOD (OF1.${version - 1}) (xid=0x1):` + formatGroupMod(groupModFromWire(decodeMessage(bytes)), version) + '\n'];
}

test('at least 60 group and meter strings', () => {
  assert.ok(GROUPS.length + BAD_GROUPS.length + METERS.length + BAD_METERS.length >= 60);
});

for (const [version, name] of [[1, undefined], [4, 'OpenFlow13'], [6, 'OpenFlow15']] as const) {
  test(`groups print back as ovs-ofctl parse-group prints them (${name ?? 'default OpenFlow10'})`, { skip }, () => {
    const bad: string[] = [];
    for (const g of GROUPS) {
      if (version === 1 && NOT_ENCODABLE_OF10.has(g)) continue;
      const want = ovsParseGroup(name, g);
      let got: string;
      try {
        const { group, usable } = parseGroupModText(g);
        got = `usable protocols: ${protocolsToString(usable)}\n`;
        if (want.status !== 0) {
          got += want.err === 'no usable protocol' ? '' : 'ACCEPTED';
        } else {
          const [bytes, text] = ourGroup(group, version);
          got += `chosen version: OpenFlow1${version - 1}\n` + text;
          const printed = ovsOfpPrint(bytes);
          if (printed !== text) bad.push(`${g} (ovs-ofctl ofp-print of our bytes)\n   ovs-ofctl: ${printed}\n   tsw:       ${text}`);
        }
      } catch (e) {
        got = `THREW ${(e as Error).message}`;
      }
      if (got !== want.out) bad.push(`${g}\n   ovs-ofctl: ${JSON.stringify(want.out)} ${want.err}\n   tsw:       ${JSON.stringify(got)}`);
    }
    assert.deepEqual(bad, [], `${bad.length} of ${GROUPS.length} differ:\n` + bad.join('\n'));
  });
}

test('bad groups fail with ovs-ofctl\'s message', { skip }, () => {
  const bad: string[] = [];
  for (const g of BAD_GROUPS) {
    const want = ovsParseGroup(undefined, g);
    let got = 'ACCEPTED';
    try {
      const { usable } = parseGroupModText(g);
      if (!(usable & 0xf)) got = 'no usable protocol';
    } catch (e) {
      got = e instanceof FlowSyntaxError ? e.message : `untyped ${String(e)}`;
    }
    const w = want.status === 0 ? 'ACCEPTED' : want.err;
    if (got !== w) bad.push(`${g}\n   ovs-ofctl: ${w}\n   tsw:       ${got}`);
  }
  assert.deepEqual(bad, [], bad.join('\n'));
});

test('group commands: delete, insert_bucket and remove_bucket as del-groups/insert-buckets/remove-buckets use them', () => {
  const del = parseGroupModText('', 'delete').group;
  assert.equal(del.group_id, 0xfffffffc);
  assert.equal(formatGroupMod(del, 6), '\n DEL group_id=4294967292,type=all');
  const ins = parseGroupModText('group_id=1,command_bucket_id=last,bucket=bucket_id:3,actions=output:1', 'insert_bucket');
  // As in OVS, parsing a bucket's actions starts the usable set afresh, so only a bucket-less command keeps OF1.0/OF1.5.
  assert.equal(ins.usable, 0x1ff);
  assert.equal(parseGroupModText('group_id=1,command_bucket_id=5', 'remove_bucket').usable, 0x10f);
  const [, text] = ourGroup(ins.group, 6);
  assert.equal(text, 'OFPT_GROUP_MOD (OF1.5) (xid=0x1):\n INSERT_BUCKET command_bucket_id:last,group_id=1,bucket=bucket_id:3,actions=output:1\n');
  const rm = parseGroupModText('remove_bucket group_id=1,command_bucket_id=5', 'text').group;
  assert.equal(rm.command, 'remove_bucket');
  assert.equal(formatGroupMod(rm, 6), '\n REMOVE_BUCKET command_bucket_id:5,group_id=1');
  assert.throws(() => groupModMessage(rm, 4), RangeError);
  assert.throws(() => parseGroupModText('group_id=1,bucket=actions=1', 'remove_bucket'), /bucket is not needed/);
  assert.throws(() => parseGroupModText('group_id=1,command_bucket_id=all', 'insert_bucket'), /command_bucket_id=all is not permitted/);
  assert.equal(parseGroupModText('mod group_id=1,type=all', 'text').group.command, 'modify');
  assert.equal(parseGroupModText('add_or_mod group_id=1,type=all', 'text').group.command, 'add_or_mod');
});

// ---------------------------------------------------------------- meters

/** What ovs-ofctl add-meter sends: a tiny switch on a unix socket records the METER_MOD. */
async function ovsMeterBytes(meters: readonly string[]): Promise<(Uint8Array | undefined)[]> {
  const dir = mkdtempSync(join(tmpdir(), 'tsw-meter-'));
  const path = join(dir, 'sw.sock');
  let seen: Uint8Array | undefined;
  const server = createServer((sock: Socket) => {
    const framer = new OfFramer();
    sock.write(encodeMessage(makeHello(1 << 4)));
    sock.on('data', (chunk) => {
      for (const raw of framer.push(chunk)) {
        const m = decodeMessage(raw) as OfMessage;
        if (m.kind === 'METER_MOD') seen = raw;
        if (m.kind === 'BARRIER_REQUEST') sock.write(encodeMessage({ version: m.version, xid: m.xid, kind: 'BARRIER_REPLY', body: {} }));
      }
    });
    sock.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(path, r));
  try {
    const out: (Uint8Array | undefined)[] = [];
    for (const m of meters) {
      seen = undefined;
      await new Promise<void>((resolve) => {
        const p = spawn('ovs-ofctl', ['-O', 'OpenFlow13', 'add-meter', `unix:${path}`, m], { stdio: 'ignore' });
        p.on('close', () => resolve());
      });
      out.push(seen);
    }
    return out;
  } finally {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

test('meters encode to the bytes ovs-ofctl add-meter sends and print as ovs-ofctl prints them', { skip }, async () => {
  const theirs = await ovsMeterBytes(METERS);
  const bad: string[] = [];
  METERS.forEach((text, i) => {
    let mine: Uint8Array;
    try {
      mine = encodeMessage(meterModMessage(parseMeterMod(text), 4, decodeMessage(theirs[i] ?? new Uint8Array()).xid));
    } catch (e) {
      bad.push(`${text}: ${(e as Error).message}`);
      return;
    }
    if (hex(mine) !== hex(theirs[i] ?? new Uint8Array())) bad.push(`${text}\n   ovs-ofctl: ${hex(theirs[i] ?? new Uint8Array())}\n   tsw:       ${hex(mine)}`);
    const bytes = encodeMessage(meterModMessage(parseMeterMod(text), 4));
    let ours: string;
    let printed = ovsOfpPrint(bytes);
    try {
      ours = 'OFPT_METER_MOD (OF1.3) (xid=0x1):' + formatMeterMod(meterModFromWire(decodeMessage(bytes)));
    } catch (e) {
      // OVS refuses some meters it sends (kbps with pktps): the same decode error, then its hex dump.
      if (!(e instanceof OfError)) throw e;
      ours = `OFPT_METER_MOD (OF1.3) (xid=0x1): ***decode error: ${e.error}***`;
      printed = printed.split('\n')[0];
    }
    if (ours !== printed) bad.push(`${text} (printed)\n   ovs-ofctl: ${JSON.stringify(printed)}\n   tsw:       ${JSON.stringify(ours)}`);
  });
  assert.deepEqual(bad, [], bad.join('\n'));
});

test('bad meters fail with ovs-ofctl\'s message', { skip }, () => {
  const bad: string[] = [];
  for (const m of BAD_METERS) {
    const r = spawnSync('ovs-ofctl', ['-O', 'OpenFlow13', 'add-meter', '/nonexistent/sw', m], { encoding: 'utf8' });
    const last = r.stderr.trim().split('\n').pop()?.replace(/^ovs-ofctl: /, '') ?? '';
    const want = /is not a bridge or a socket/.test(last) ? 'ACCEPTED' : last;
    let got = 'ACCEPTED';
    try {
      parseMeterMod(m);
    } catch (e) {
      got = e instanceof FlowSyntaxError ? e.message : `untyped ${String(e)}`;
    }
    if (got !== want) bad.push(`${m}\n   ovs-ofctl: ${want}\n   tsw:       ${got}`);
  }
  assert.deepEqual(bad, [], bad.join('\n'));
});

test('meter deletes carry no flags and print as dump-meters entries', () => {
  const del = parseMeterMod('meter=5', 'delete');
  const msg = meterModMessage({ ...del, flags: 1 }, 5);
  assert.equal((msg.body as { flags: number }).flags, 0);
  assert.equal(formatMeter(meterModFromWire(decodeMessage(encodeMessage(msg)))), 'meter=5 bands=\n');
  assert.equal(formatMeter({ meter_id: 0xfffffffe, flags: 0x15, bands: [{ type: 2, rate: 3, burst_size: 4, prec_level: 1 }] }),
    'meter=controller kbps burst flags:0x10 bands=\ntype=dscp_remark rate=3 burst_size=4 prec_level=1\n');
  assert.throws(() => meterModMessage(del, 1), RangeError);
});
