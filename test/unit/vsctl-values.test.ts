// tsw-vsctl's value syntax and command line, without a server: the strings
// expected here are what ovs-vsctl 3.1 prints for the same input.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ColumnType } from '../../src/db/schema.js';
import {
  SymbolTable, VsctlError, datumFromString, datumToBare, datumToJson, datumToString, formatG, serializeJson, typeToEnglish,
} from '../../src/cli/vsctl/values.js';
import { GetoptError, defaultOptions, parseCommands, parseGlobalOptions } from '../../src/cli/vsctl/cmdline.js';
import { hashOrder, ovsHashString } from '../../src/cli/vsctl/context.js';
import { parseZoneArg, sortUniquePairs } from '../../src/cli/vsctl/dpcmds.js';

const STR_MAP: ColumnType = { key: { type: 'string' }, value: { type: 'string' }, min: 0, max: Infinity };
const INT_SET: ColumnType = { key: { type: 'integer', minInteger: 0, maxInteger: 4095 }, min: 0, max: 4096 };
const OPT_INT: ColumnType = { key: { type: 'integer', minInteger: 0, maxInteger: 4095 }, min: 0, max: 1 };
const STR: ColumnType = { key: { type: 'string' }, min: 1, max: 1 };
const MODE: ColumnType = { key: { type: 'string', enum: ['standalone', 'secure'] }, min: 0, max: 1 };

describe('vsctl value formatting', () => {
  it('quotes strings only when they are not plain identifiers', () => {
    const s = (x: string): string => datumToString(STR, { keys: [x], values: null });
    assert.equal(s('br0'), 'br0');
    assert.equal(s('br-0.x_y'), 'br-0.x_y');
    assert.equal(s(''), '""');
    assert.equal(s('a b'), '"a b"');
    assert.equal(s('0br'), '"0br"');
    assert.equal(s('true'), '"true"');
    assert.equal(s('tcp:1.2.3.4:6653'), '"tcp:1.2.3.4:6653"');
    assert.equal(s('12345678-1234-1234-1234-123456789abc'), '"12345678-1234-1234-1234-123456789abc"');
    assert.equal(s('say "hi"\n'), '"say \\"hi\\"\\n"');
  });

  it('prints sets, maps and optional values like ovs-vsctl', () => {
    assert.equal(datumToString(INT_SET, { keys: [], values: null }), '[]');
    assert.equal(datumToString(INT_SET, { keys: [1, 2], values: null }), '[1, 2]');
    assert.equal(datumToString(OPT_INT, { keys: [5], values: null }), '5');
    assert.equal(datumToString(OPT_INT, { keys: [], values: null }), '[]');
    assert.equal(datumToString(STR_MAP, { keys: ['a', 'k'], values: ['b c', 'v'] }), '{a="b c", k=v}');
    assert.equal(datumToString(STR_MAP, { keys: [], values: [] }), '{}');
    assert.equal(datumToBare(STR_MAP, { keys: ['a', 'k'], values: ['b c', 'v'] }), 'a=b c k=v');
  });

  it('formats reals as %.15g and JSON as OVS does', () => {
    assert.equal(formatG(1.5), '1.5');
    assert.equal(formatG(100), '100');
    assert.equal(formatG(1e20), '1e+20');
    assert.equal(formatG(0.0001), '0.0001');
    assert.equal(formatG(0.00001), '1e-05');
    assert.equal(formatG(1 / 3), '0.333333333333333');
    assert.equal(serializeJson(datumToJson(STR_MAP, { keys: ['a'], values: ['b'] })), '["map",[["a","b"]]]');
    assert.equal(serializeJson(datumToJson(INT_SET, { keys: [7], values: null })), '7');
    assert.equal(serializeJson({ headings: ['a'], data: [[1]] }, true), '{\n  "data": [\n    [\n      1]],\n  "headings": [\n    "a"]}');
  });

  it('parses the human syntax', () => {
    const st = new SymbolTable();
    assert.deepEqual(datumFromString(STR_MAP, '{b=2, a="x y"}', st), { keys: ['a', 'b'], values: ['x y', '2'] });
    assert.deepEqual(datumFromString(STR_MAP, 'k=v', st), { keys: ['k'], values: ['v'] });
    assert.deepEqual(datumFromString(INT_SET, '3,1 2', st), { keys: [1, 2, 3], values: null });
    assert.deepEqual(datumFromString(INT_SET, '[10-12]', st), { keys: [10, 11, 12], values: null });
    assert.deepEqual(datumFromString(INT_SET, '[]', st), { keys: [], values: null });
    const u: ColumnType = { key: { type: 'uuid', refTable: 'QoS', refType: 'strong' }, min: 0, max: 1 };
    const d = datumFromString(u, '@q', st);
    assert.equal(d.keys[0], st.get('@q')?.uuid);
    assert.equal(st.get('@q')?.strongRef, true);
  });

  it('reports bad values with ovs-vsctl\'s messages', () => {
    const err = (t: ColumnType, s: string): string => {
      try {
        datumFromString(t, s, null);
      } catch (e) {
        assert.ok(e instanceof VsctlError);
        return e.message;
      }
      return 'no error';
    };
    assert.equal(err(OPT_INT, 'abc'), '"abc" is not a valid integer or range');
    assert.equal(err(OPT_INT, '5000'), 'constraint violation: 5000 is not in the valid range 0 to 4095 (inclusive)');
    assert.equal(err(MODE, 'foo'), 'constraint violation: foo is not one of the allowed values ([secure, standalone])');
    assert.equal(err(STR, ''), 'use "[]" to specify the empty set');
    assert.equal(err(STR_MAP, 'a'), 'a: syntax error at "" expecting "="');
    assert.equal(err(OPT_INT, '1,2'), '1,2: 2 value(s) specified but the maximum number is 1');
    assert.equal(err(INT_SET, '[1,1]'), '[1,1]: set contains duplicate value');
    assert.equal(typeToEnglish(OPT_INT), 'set of up to 1 integers');
  });
});

describe('vsctl command line', () => {
  const parse = (argv: string[]): string => {
    try {
      const opts = defaultOptions();
      const local = new Map<string, string | null>();
      const i = parseGlobalOptions(argv, opts, local);
      return parseCommands(argv.slice(i), local).map((c) => `${[...c.options.keys()].join(' ')}|${c.argv.join(' ')}`).join(';');
    } catch (e) {
      return (e instanceof GetoptError ? 'getopt: ' : 'error: ') + (e as Error).message;
    }
  };

  it('splits commands and per-command options', () => {
    assert.equal(parse(['--may-exist', 'add-br', 'br0', '--', '--if-exists', 'del-br', 'x']), '--may-exist|add-br br0;--if-exists|del-br x');
    assert.equal(parse(['--', 'list-br', '--']), '|list-br');
    assert.equal(parse(['--id=@q', 'create', 'QoS', 'type=x']), '--id|create QoS type=x');
  });

  it('rejects what ovs-vsctl rejects, with the same words', () => {
    assert.equal(parse(['--foo']), "getopt: unrecognized option '--foo'");
    assert.equal(parse(['--d']), "getopt: option '--d' is ambiguous; possibilities: '--db' '--dry-run' '--data'");
    assert.equal(parse(['--db']), "getopt: option '--db' requires an argument");
    assert.equal(parse(['--no-wait=3']), "getopt: option '--no-wait' doesn't allow an argument");
    assert.equal(parse(['-x']), "getopt: invalid option -- 'x'");
    assert.equal(parse(['-t', '0', 'list-br']), 'error: value 0 on -t or --timeout is invalid');
    assert.equal(parse([]), 'error: missing command name (use --help for help)');
    assert.equal(parse(['foo']), "error: unknown command 'foo'; use --help for help");
    assert.equal(parse(['list-br', 'x']), "error: 'list-br' command takes at most 0 arguments");
    assert.equal(parse(['add-br']), "error: 'add-br' command requires at least 1 arguments");
    assert.equal(parse(['--may-exist', 'list-br']), "error: 'list-br' command has no '--may-exist' option");
    assert.equal(
      parse(['list-br', '--real']),
      "error: 'list-br' command takes at most 0 arguments (note that options must precede command names and follow a \"--\" argument)",
    );
  });
});

describe('vsctl row order', () => {
  it('hashes strings like OVS and iterates rows like its hash tables', () => {
    assert.equal(typeof ovsHashString('br0'), 'number');
    const rows = ['15df3560-50f2-453f-81be-fda0ba0b94ed', 'd83aa34a-6fdc-4939-86ee-3931a26f599f', 'f66bc897-823e-49fc-ba06-bf6527240f4d'];
    // Observed with ovs-vsctl: three rows fall in buckets 0, 2 and 3 of a 4-bucket table.
    assert.deepEqual(hashOrder(rows.map((uuid) => ({ uuid }))).map((r) => r.uuid), rows);
  });
});

describe('vsctl datapath arguments', () => {
  it('reads zone=ID as OVS scans "zone=%i": hex, octal, decimal, wrapping to int64', () => {
    assert.equal(parseZoneArg('zone=12'), 12);
    assert.equal(parseZoneArg('zone=0x1F'), 31);
    assert.equal(parseZoneArg('zone= 010'), 8);
    assert.equal(parseZoneArg('zone=09'), 0);
    assert.equal(parseZoneArg('zone=-1'), -1);
    assert.equal(parseZoneArg('zone=7abc'), 7);
    assert.equal(parseZoneArg('zone=0x10000000000000001'), 1);
  });

  it('rejects a zone argument ovs-vsctl would leave uninitialized', () => {
    for (const bad of ['zone=abc', 'zone=', 'zone=0x', 'zonex', 'Zone=1', ' zone=1']) {
      assert.throws(() => parseZoneArg(bad), (e: unknown) => e instanceof VsctlError && e.message === `invalid zone "${bad}" (expected zone=ZONE_ID)`);
    }
  });

  it('keeps the smallest value of a repeated key, as OVS sorts map pairs', () => {
    assert.deepEqual(sortUniquePairs([[5, 30], [1, 1], [5, 2]], 'integer', 'integer'), { keys: [1, 5], values: [1, 2] });
    assert.deepEqual(sortUniquePairs([['udp_first', 5], ['udp_first', 3]], 'string', 'integer'), { keys: ['udp_first'], values: [3] });
  });
});
