// tun_metadata0-63 end to end through ovs-ofctl: Geneve options mapped with
// add-tlv-map, then flows that match them (exact, masked, zero mask, values
// longer than the mapping) and set, load and move them, dumped back with the
// mapped lengths; flows on unmapped fields and moves past the mapped length
// refused; a mapping in use cannot be deleted until its flows are gone. The
// same script runs with the real ovs-ofctl against ovs-vswitchd 3.1 and
// against tsw-vswitchd, and with tsw-ofctl against both; every step must
// print the same text and exit with the same status.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { assertSameAsOvs, type Step } from './ofctl-script.js';
import { realOvsMissing, startRealOvs, type RealOvs } from './real-ovs.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const missing = realOvsMissing()
  ?? (existsSync(join(ROOT, 'dist', 'vswitchd', 'main.js')) && existsSync(join(ROOT, 'dist', 'cli', 'ofctl', 'main.js'))
    ? null : 'tsw is not built (npm run build)');

const s = (...args: string[]): Step => ({ args });
const flow = (text: string): Step => s('add-flow', 'BR', text);
const dump = (...opts: string[]): Step => s('dump-flows', '--no-stats', '--sort=priority', ...opts, 'BR');
const MAPS = '{class=0xffff,type=0,len=4}->tun_metadata0,{class=0xffff,type=1,len=8}->tun_metadata1,{class=0xffff,type=2,len=124}->tun_metadata2';
const LONG = `0x${'ab'.repeat(124)}`;

const SCRIPT: readonly Step[] = [
  // Each run starts from an empty table (the bridge's NORMAL flow carries the flags of whoever added it last).
  s('del-flows', 'BR'),
  // Nothing mapped yet: the field is unknown to the switch.
  flow('tun_metadata0=1,actions=drop'),
  s('add-tlv-map', 'BR', MAPS),
  // Matches: exact, longer than the mapping (the leading bytes stay), masked, zero mask, the longest.
  flow('priority=1,tun_metadata0=0x12345678,actions=drop'),
  flow('priority=2,tun_metadata0=0x123456789,actions=drop'),
  flow('priority=3,tun_metadata1=0x12/0xff,actions=drop'),
  flow('priority=4,tun_metadata1=0x12/0xff,tun_metadata0=0,actions=drop'),
  flow('priority=5,tun_metadata1=0x1/0,actions=drop'),
  flow(`priority=6,tun_metadata2=${LONG},actions=drop`),
  flow('priority=7,tun_metadata2=0x1,tun_id=5,actions=drop'),
  flow('priority=8,tun_metadata5=1,actions=drop'),
  // Actions: set_field, load (partial and whole), move both ways; unmapped fields and moves past the mapping refused.
  flow('priority=10,actions=set_field:0x55->tun_metadata1'),
  flow('priority=11,actions=set_field:0x123456789a->tun_metadata0'),
  flow('priority=12,actions=load:0x1->tun_metadata1[0..15]'),
  flow('priority=13,actions=load:0x1->tun_metadata0[16..47]'),
  flow('priority=14,actions=move:tun_metadata0[0..31]->NXM_NX_REG0[]'),
  flow('priority=15,actions=move:tun_metadata0[0..63]->NXM_NX_XXREG0[0..63]'),
  flow('priority=16,actions=move:NXM_NX_REG1[]->tun_metadata1[32..63]'),
  flow('priority=17,actions=set_field:0x1->tun_metadata7'),
  flow('priority=18,actions=move:tun_metadata7[0..7]->NXM_NX_REG0[0..7]'),
  flow('priority=19,actions=set_field:0x1/0xff->tun_metadata1'),
  flow('priority=20,tun_metadata2=0x1/0xff,actions=load:0x1->tun_metadata0[]'),
  flow('priority=21,actions=set_field:0->tun_metadata0'),
  dump(),
  s('dump-flows', '--no-stats', '--sort=priority', 'BR', 'tun_metadata1=0x12/0xff'),
  // In use: the mapping stays.
  s('del-tlv-map', 'BR', '{class=0xffff,type=0,len=4}->tun_metadata0'),
  s('del-tlv-map', 'BR'),
  s('del-flows', 'BR', 'tun_metadata0=0x12345678'),
  s('del-flows', '--strict', 'BR', 'priority=4,tun_metadata1=0x12/0xff,tun_metadata0=0'),
  s('del-flows', 'BR', 'tun_metadata7=1'),
  dump(),
  // Flows using tun_metadata0 only in their actions still hold it.
  s('del-flows', '--strict', 'BR', 'priority=2,tun_metadata0=0x1234567'),
  s('del-tlv-map', 'BR', '{class=0xffff,type=0,len=4}->tun_metadata0'),
  s('mod-flows', 'BR', 'actions=drop'),
  s('del-tlv-map', 'BR', '{class=0xffff,type=0,len=4}->tun_metadata0'),
  s('dump-tlv-map', 'BR'),
  s('del-flows', 'BR'),
  s('del-tlv-map', 'BR'),
  s('dump-tlv-map', 'BR'),
];

describe(`tun_metadata flows through ovs-ofctl and tsw-ofctl, ovs-vswitchd and tsw-vswitchd (${SCRIPT.length} commands per version)`,
  { skip: missing ?? false }, () => {
    let real: RealOvs;
    let ours: RealOvs;
    let dir: string;

    before(async () => {
      const bridges = ['br0'];
      real = await startRealOvs({ bridges });
      ours = await startRealOvs({ bridges, impl: 'tsw' });
      dir = mkdtempSync(join(os.tmpdir(), 'tsw-tun-metadata-'));
    });

    after(async () => {
      await real?.stop();
      await ours?.stop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    for (const version of ['OpenFlow10', 'OpenFlow13', 'OpenFlow15']) {
      test(`-O ${version}: the same texts and exit statuses from both switches and both tools`, { timeout: 300_000 }, async () => {
        const args = ['-O', version];
        await assertSameAsOvs({
          real, ours, versionArgs: args, dir, steps: SCRIPT,
          checkReference: (reference) => {
            // The reference itself shows what the script is about.
            const text = reference.map((r) => r.stdout + r.stderr).join('');
            for (const e of ['NXFMFC_INVALID_TLV_FIELD', 'NXTTMFC_INVALID_TLV_DEL', 'OFPBAC_BAD_SET_LEN', 'tun_metadata0=0x1234567 ', 'set_field:0x1/0xffff->tun_metadata1']) {
              assert.ok(text.includes(e), `the reference run shows ${e}`);
            }
          },
        });
      });
    }
  });
