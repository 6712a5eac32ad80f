// The pieces of tsw-vswitchd that need no database: port numbering, datapath
// IDs, coverage counters and the command line.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { formatMac } from '../../src/netdev/index.js';
import { macFromUuid, parseDatapathId } from '../../src/vswitchd/bridge.js';
import { Coverage } from '../../src/lib/index.js';
import { parseSwitchArgs } from '../../src/vswitchd/main.js';
import { OfportAllocator, validOfport } from '../../src/vswitchd/ofport.js';

describe('ofport allocation', () => {
  it('honours a free request, counts up from 1 otherwise, and skips numbers in use', () => {
    const a = new OfportAllocator(() => 0);
    assert.equal(a.alloc(5), 5);
    assert.equal(a.alloc(null), 1);
    assert.equal(a.alloc(5), 2, 'a taken request falls back to an automatic number');
    assert.equal(a.alloc(null), 3);
    assert.equal(a.alloc(65280), 4, 'OFPP_MAX and above cannot be requested');
  });

  it('does not hand a released number out again for an hour, unless nothing else is left', () => {
    let now = 1_000_000_000;
    const a = new OfportAllocator(() => now);
    assert.equal(a.alloc(null), 1);
    assert.equal(a.alloc(null), 2);
    a.release(1);
    assert.equal(a.alloc(null), 3);
    assert.equal(a.alloc(1), 1, 'an explicit request may take a released number');
    a.release(2);
    now += 61 * 60 * 1000;
    // The counter continues upward; numbers wrap only at 32768.
    assert.equal(a.alloc(null), 4);
  });

  it('validOfport accepts 1..65279', () => {
    assert.deepEqual([0, 1, 65279, 65280, 1.5, undefined].map(validOfport), [null, 1, 65279, null, null, null]);
  });
});

describe('datapath id', () => {
  it('derives the bridge MAC from the uuid as OVS lays it out in memory (capture in OVS-INTERFACES 1.7)', () => {
    assert.equal(formatMac(macFromUuid('97ad9c42-f69b-4ec3-8b30-7f3abf25638a')), '42:9c:ad:97:c3:4e');
    assert.equal(formatMac(macFromUuid('38c0a103-0a19-4bdb-8daf-1a11addd8f47')), '02:a1:c0:38:db:4b');
  });

  it('parses other_config:datapath-id like OVS: 16 hex digits or 0x-prefixed, never zero', () => {
    assert.equal(parseDatapathId('0000000000000001'), 1n);
    assert.equal(parseDatapathId('0x1f'), 0x1fn);
    assert.equal(parseDatapathId('0000000000000000'), null);
    assert.equal(parseDatapathId('123'), null);
    assert.equal(parseDatapathId(undefined), null);
  });
});

describe('coverage', () => {
  it('lists hit events with rates and totals, and counts the rest as never hit', () => {
    let now = 100_000;
    const c = new Coverage(() => now);
    c.define('idle_event');
    c.inc('bridge_reconfigure');
    c.inc('bridge_reconfigure', 9);
    now += 10_000;
    c.inc('netdev_open');
    const text = c.show();
    assert.match(text, /^Event coverage, avg rate over last: 5 seconds, last minute, last hour, {2}hash=[0-9a-f]{8}:\n/);
    assert.match(text, /^bridge_reconfigure +0\.0\/sec +0\.167\/sec +0\.0028\/sec +total: 10$/m);
    assert.match(text, /^netdev_open .* 0\.2\/sec .*total: 1$/m);
    assert.match(text, /\n1 events never hit\n$/);
  });
});

describe('command line', () => {
  it('takes the database remote and --enable-dummy levels as ovs-vswitchd does', () => {
    assert.deepEqual(parseSwitchArgs(['unix:/x/db.sock', '--enable-dummy=override']), { remote: 'unix:/x/db.sock', dummy: 'override' });
    assert.equal(parseSwitchArgs(['--enable-dummy']).dummy, 'none');
    assert.match(parseSwitchArgs([]).remote, /^unix:.*\/db\.sock$/);
    assert.throws(() => parseSwitchArgs(['--enable-dummy=everything']), /unknown level/);
    assert.throws(() => parseSwitchArgs(['a', 'b']), /at most one non-option argument/);
    assert.throws(() => parseSwitchArgs(['--frobnicate']), /unrecognized option/);
  });
});
