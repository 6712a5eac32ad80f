import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import {
  Destination, Level, vlogCloseLogFile, vlogGetLevels, vlogModule, vlogSetLevels, vlogSetLevelsFromString, vlogSetLogFile,
} from '../../src/lib/index.js';

describe('vlog', () => {
  const dir = fs.mkdtempSync(os.tmpdir() + '/tsw-');
  after(() => {
    vlogCloseLogFile();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('parses specs like OVS: module, destination and level in any order, ANY as wildcard, dbg by default', () => {
    const m = vlogModule('vlog_test_a');
    vlogModule('vlog_test_b');
    assert.equal(vlogSetLevelsFromString('vlog_test_a:file:warn'), null);
    assert.deepEqual(m.levels, [Level.INFO, Level.INFO, Level.WARN]);
    assert.equal(vlogSetLevelsFromString('CONSOLE,ERR VLOG_TEST_A'), null);
    assert.deepEqual(m.levels, [Level.ERR, Level.INFO, Level.WARN]);
    assert.equal(vlogSetLevelsFromString('vlog_test_a'), null);
    assert.deepEqual(m.levels, [Level.DBG, Level.DBG, Level.DBG]);
    assert.equal(vlogSetLevelsFromString('ANY:syslog:off'), null);
    assert.equal(vlogModule('vlog_test_b').levels[Destination.SYSLOG], Level.OFF);
    assert.equal(vlogModule('vlog_test_late').levels[Destination.SYSLOG], Level.OFF, 'modules registered later follow wildcards');
    assert.equal(vlogSetLevelsFromString('bogus'), 'no destination, level, or module "bogus"');
    assert.equal(vlogSetLevelsFromString('file:console'), 'cannot specify multiple destinations');
    assert.equal(vlogSetLevelsFromString('dbg:info'), 'cannot specify multiple levels');
    assert.equal(vlogSetLevelsFromString('vlog_test_a:vlog_test_b'), 'cannot specify multiple modules');
    assert.equal(vlogSetLevelsFromString('FACILITY:local0'), null);
    assert.equal(vlogSetLevelsFromString('FACILITY:nope'), 'invalid facility');
    assert.equal(vlogSetLevelsFromString('PATTERN:bogus:%m'), 'unknown destination "bogus"');
    vlogSetLevels(null, null, Level.INFO);
  });

  it('prints vlog/list in OVS layout, sorted', () => {
    vlogSetLevels(vlogModule('vlog_test_a'), Destination.CONSOLE, Level.OFF);
    const text = vlogGetLevels();
    const lines = text.split('\n');
    assert.equal(lines[0], '                 console    syslog    file');
    assert.equal(lines[1], '                 -------    ------    ------');
    assert.ok(lines.includes('vlog_test_a        OFF       INFO       INFO'), text);
    const body = lines.slice(2).filter((l) => l);
    assert.deepEqual(body, [...body].sort());
  });

  it('writes file lines as "<time>|<seq>|<module>|<LEVEL>|<message>" honoring the file level', () => {
    const m = vlogModule('vlog_test_file');
    vlogSetLevels(null, Destination.CONSOLE, Level.OFF);
    vlogSetLogFile(`${dir}/t.log`);
    m.info('hello\n');
    m.dbg('hidden');
    vlogSetLevelsFromString('vlog_test_file:file:dbg');
    assert.ok(m.isEnabled(Level.DBG));
    m.dbg('shown');
    const lines = fs.readFileSync(`${dir}/t.log`, 'utf8').split('\n');
    assert.match(lines[0], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\|\d{5}\|vlog\|INFO\|opened log file .*t\.log$/);
    assert.match(lines[1], /\|vlog_test_file\|INFO\|hello$/);
    assert.match(lines[2], /\|vlog_test_file\|DBG\|shown$/);
    const seq = lines.slice(0, 3).map((l) => Number(l.split('|')[1]));
    assert.deepEqual(seq, [seq[0], seq[0] + 1, seq[0] + 2]);
    assert.equal(lines[3], '');
  });
});
