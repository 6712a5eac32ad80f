// The Geneve TLV mapping table seen through ovs-ofctl add-tlv-map,
// del-tlv-map and dump-tlv-map: one script (mappings added, refused as
// already mapped, duplicate, badly sized, out of range or too big for the
// option space, deleted when unmapped, cleared; a second bridge keeps its own
// table) runs with the real ovs-ofctl against a bridge on ovs-vswitchd 3.1
// and against one on tsw-vswitchd, and with tsw-ofctl against both; every
// step must print the same text and exit with the same status.

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
const maps = (...m: string[]): string => m.join(',');
const tlv = (cls: number | string, type: number, len: number, index: number): string => `{class=${cls},type=${type},len=${len}}->tun_metadata${index}`;

/** The script; every step leaves the table as the next one expects, and the last ones empty it again. */
const SCRIPT: readonly Step[] = [
  s('dump-tlv-map', 'BR'),
  s('add-tlv-map', 'BR', tlv('0xffff', 0, 4, 0)),
  s('dump-tlv-map', 'BR'),
  s('dump-tlv-map', 'br1'),
  // Refused by the switch's table.
  s('add-tlv-map', 'BR', tlv('0xffff', 1, 8, 0)),
  s('add-tlv-map', 'BR', tlv('0xffff', 0, 8, 1)),
  s('add-tlv-map', 'BR', maps(tlv(7, 1, 4, 20), tlv(7, 1, 4, 21))),
  // Refused by the switch's decoder (ovs-ofctl warns again when it prints the refused request).
  s('add-tlv-map', 'BR', tlv('0xffff', 2, 5, 2)),
  s('add-tlv-map', 'BR', tlv('0xffff', 2, 128, 2)),
  s('add-tlv-map', 'BR', tlv('0xffff', 2, 4, 64)),
  s('del-tlv-map', 'BR', tlv(1, 1, 7, 0)),
  // Deleting what is not mapped is no error.
  s('del-tlv-map', 'BR', tlv('0xffff', 2, 4, 5)),
  s('add-tlv-map', 'BR', maps(tlv(1, 2, 4, 3), tlv(2, 3, 124, 4))),
  s('dump-tlv-map', 'BR'),
  // 132 bytes used: 124 more fit, 128 do not, and a failed mod adds nothing.
  s('add-tlv-map', 'BR', maps(tlv(3, 1, 124, 5), tlv(3, 2, 4, 6))),
  s('dump-tlv-map', 'BR'),
  s('add-tlv-map', 'BR', maps(tlv(3, 1, 120, 5), tlv(3, 2, 4, 6))),
  s('add-tlv-map', 'BR', tlv(3, 3, 0, 7)),
  s('add-tlv-map', 'BR', tlv(3, 4, 4, 8)),
  s('dump-tlv-map', 'BR'),
  // The error quotes the whole refused request, even beyond 64 bytes.
  s('add-tlv-map', 'BR', maps(...[10, 11, 12, 13, 14].map((i) => tlv(4, i, 0, i)), tlv('0xffff', 0, 0, 15))),
  // Numbers wrap as C stores them: class 0x10002 is 2, index 65543 is 7.
  s('del-tlv-map', 'BR', maps(tlv('0x10002', 263, 260, 65543), tlv(0, 0, 0, 3))),
  s('dump-tlv-map', 'BR'),
  // ovs-ofctl's own refusals.
  s('add-tlv-map', 'BR', 'bogus'),
  s('add-tlv-map', 'BR', `${tlv(1, 7, 4, 9)},`),
  s('add-tlv-map', 'BR', '{class=1, type=7,len=4}->tun_metadata9'),
  s('add-tlv-map', 'BR'),
  s('dump-tlv-map', 'BR', 'extra'),
  s('del-tlv-map', 'BR', tlv(1, 1, 4, 0), 'extra'),
  s('add-tlv-map', 'BR', ''),
  s('add-tlv-map', 'BR', '{class=1,type= 7,len=4}->tun_metadata9'),
  s('del-tlv-map', 'BR'),
  s('dump-tlv-map', 'BR'),
  // All 64 fields of 4 bytes fill the option space exactly; then nothing more fits.
  s('add-tlv-map', 'BR', maps(...Array.from({ length: 64 }, (_, i) => tlv('0x0102', i, 4, i)))),
  s('dump-tlv-map', 'BR'),
  s('del-tlv-map', 'BR', tlv(0, 0, 0, 17)),
  s('add-tlv-map', 'BR', tlv(5, 5, 8, 17)),
  s('add-tlv-map', 'BR', tlv(5, 5, 4, 17)),
  s('del-tlv-map', 'BR'),
  s('dump-tlv-map', 'BR'),
];

describe(`the TLV mapping table through ovs-ofctl and tsw-ofctl, ovs-vswitchd and tsw-vswitchd (${SCRIPT.length} commands per version)`,
  { skip: missing ?? false }, () => {
    let real: RealOvs;
    let ours: RealOvs;
    let dir: string;

    before(async () => {
      const bridges = ['br0', 'br1'];
      real = await startRealOvs({ bridges });
      ours = await startRealOvs({ bridges, impl: 'tsw' });
      dir = mkdtempSync(join(os.tmpdir(), 'tsw-tlv-map-'));
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
            // The reference itself shows the errors the script is about.
            const stderr = reference.map((r) => r.stderr).join('');
            for (const e of ['ALREADY_MAPPED', 'DUP_ENTRY', 'BAD_OPT_LEN', 'BAD_FIELD_IDX', 'TABLE_FULL']) assert.match(stderr, new RegExp(`NXTTMFC_${e}`));
          },
        });
      });
    }
  });
