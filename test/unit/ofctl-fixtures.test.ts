// tsw-ofctl ofp-parse-pcap against real captures: each fixture in
// test/fixtures/openflow must print exactly as the real `ovs-ofctl
// ofp-parse-pcap` printed it (the stored .pcap.txt). Fixtures we cannot
// print exactly yet have a ceiling on the number of differing lines, a
// ratchet: it fails on any regression, and is lowered as printing improves.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { run } from '../../src/cli/ofctl/main.js';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'openflow');

/** Differing lines (ours plus theirs in `diff` output) still allowed; a fixture not listed must match exactly. */
const CEILING: Record<string, number> = {};

function parsePcap(path: string): string {
  const chunks: string[] = [];
  const errs: string[] = [];
  const status = run(['ofp-parse-pcap', path], { out: (s) => chunks.push(s) }, (s) => errs.push(s));
  assert.equal(status, 0, `ofp-parse-pcap ${path} failed: ${errs.join('')}`);
  return chunks.join('');
}

/** `diff`'s changed lines, ours (`<`) and the reference's (`>`). */
function changedLines(dir: string, ours: string, theirs: string): string[] {
  const a = join(dir, 'ours.txt');
  const b = join(dir, 'theirs.txt');
  writeFileSync(a, ours);
  writeFileSync(b, theirs);
  const r = spawnSync('diff', [a, b], { encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0 && r.status !== 1) throw new Error(`diff failed: ${r.stderr}`);
  return r.stdout.split('\n').filter((l) => l.startsWith('< ') || l.startsWith('> ') || l === '<' || l === '>');
}

const names = readdirSync(FIXTURES)
  .filter((f) => /\.pcap(\.gz)?$/.test(f))
  .sort();

for (const file of names) {
  const name = file.replace(/\.pcap(\.gz)?$/, '');
  test(`ofp-parse-pcap ${name} reads as ovs-ofctl's`, () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsw-ofctl-fixture-'));
    try {
      let pcap = join(FIXTURES, file);
      if (file.endsWith('.gz')) {
        pcap = join(dir, `${name}.pcap`);
        writeFileSync(pcap, gunzipSync(readFileSync(join(FIXTURES, file))));
      }
      const ours = parsePcap(pcap);
      const theirs = readFileSync(join(FIXTURES, `${name}.pcap.txt`), 'utf8');
      const ceiling = CEILING[name] ?? 0;
      if (ceiling === 0) {
        if (ours !== theirs) {
          const changed = changedLines(dir, ours, theirs);
          assert.fail(`${name}: ${changed.length} lines differ from ovs-ofctl's, first ones:\n${changed.slice(0, 40).join('\n')}`);
        }
        return;
      }
      if (ours === theirs) assert.fail(`${name} now matches exactly: remove its ceiling`);
      const changed = changedLines(dir, ours, theirs);
      assert.ok(
        changed.length <= ceiling,
        `${name}: ${changed.length} lines differ from ovs-ofctl's (ceiling ${ceiling}), first ones:\n${changed.slice(0, 40).join('\n')}`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
