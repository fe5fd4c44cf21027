import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  Binary,
  Bool,
  DateDay,
  Decimal,
  Duration,
  Field,
  Float64,
  Int32,
  Int64,
  IntervalYearMonth,
  List,
  Map_,
  makeData,
  RecordBatch,
  Schema,
  Struct,
  Table,
  TimestampMicrosecond,
  TimeUnit,
  tableToIPC,
  Utf8,
  vectorFromArray,
} from 'apache-arrow';
import { decimalText, decodeArrowBatches } from './arrow-rows.ts';

/** One IPC stream with the given columns, as Spark Connect sends an arrow_batch. */
function ipcOf(columns: Record<string, ReturnType<typeof makeData>>): Uint8Array {
  const fields = Object.entries(columns).map(([name, data]) => new Field(name, data.type, true));
  const schema = new Schema(fields);
  const length = Object.values(columns)[0]?.length ?? 0;
  const struct = makeData({ type: new Struct(fields), length, nullCount: 0, children: Object.values(columns) });
  return tableToIPC(new Table([new RecordBatch(schema, struct)]), 'stream');
}

/** A validity bitmap for `valid`. */
function bitmap(valid: boolean[]): Uint8Array {
  const out = new Uint8Array(Math.ceil(valid.length / 8));
  valid.forEach((v, i) => {
    if (v) out[i >> 3] = (out[i >> 3] as number) | (1 << (i % 8));
  });
  return out;
}

describe('Arrow batches to rows', () => {
  it('decodes exact numbers: bigint and decimal as decimal strings, doubles as numbers', () => {
    const ipc = ipcOf({
      big: makeData({
        type: new Int64(),
        length: 3,
        nullCount: 1,
        nullBitmap: bitmap([true, true, false]),
        data: new BigInt64Array([9_223_372_036_854_775_807n, -5n, 0n]),
      }),
      dec: makeData({
        type: new Decimal(2, 38, 128),
        length: 3,
        nullCount: 0,
        data: new Uint32Array([150, 0, 0, 0, 0xffffff6a, 0xffffffff, 0xffffffff, 0xffffffff, 5, 0, 0, 0]),
      }),
      dbl: makeData({ type: new Float64(), length: 3, nullCount: 0, data: new Float64Array([1.5, Number.NaN, Number.NEGATIVE_INFINITY]) }),
      int: makeData({ type: new Int32(), length: 3, nullCount: 0, data: new Int32Array([1, -2, 3]) }),
    });
    const { rows, schema } = decodeArrowBatches(ipc);
    assert.deepEqual(
      schema.fields.map((f) => f.name),
      ['big', 'dec', 'dbl', 'int'],
    );
    assert.deepEqual(rows, [
      ['9223372036854775807', '1.50', 1.5, 1],
      ['-5', '-1.50', 'NaN', -2],
      [null, '0.05', '-Infinity', 3],
    ]);
  });

  it('decodes strings, booleans, binary, dates, timestamps and intervals', () => {
    const ipc = ipcOf({
      s: vectorFromArray(['héllo', null, ''], new Utf8()).data[0] as ReturnType<typeof makeData>,
      b: vectorFromArray([true, false, null], new Bool()).data[0] as ReturnType<typeof makeData>,
      bin: vectorFromArray([new Uint8Array([97, 98]), new Uint8Array([]), null], new Binary()).data[0] as ReturnType<typeof makeData>,
      d: makeData({ type: new DateDay(), length: 3, nullCount: 0, data: new Int32Array([19_724, 0, -1]) }),
      ts: makeData({ type: new TimestampMicrosecond('Etc/UTC'), length: 3, nullCount: 0, data: new BigInt64Array([1_704_164_645_123_456n, 0n, -1n]) }),
      ntz: makeData({ type: new TimestampMicrosecond(null), length: 3, nullCount: 0, data: new BigInt64Array([1_704_164_645_000_000n, 1n, 0n]) }),
      dt: makeData({ type: new Duration(TimeUnit.MICROSECOND), length: 3, nullCount: 0, data: new BigInt64Array([86_400_000_000n, 1_500_000n, 0n]) }),
      ym: makeData({ type: new IntervalYearMonth(), length: 3, nullCount: 0, data: new Int32Array([14, -3, 0]) }),
    });
    assert.deepEqual(decodeArrowBatches(ipc).rows, [
      ['héllo', true, 'YWI=', '2024-01-02', '2024-01-02T03:04:05.123456Z', '2024-01-02T03:04:05', 'P1D', 'P1Y2M'],
      [null, false, '', '1970-01-01', '1970-01-01T00:00:00Z', '1970-01-01T00:00:00.000001', 'PT1.5S', '-P3M'],
      ['', null, null, '1969-12-31', '1969-12-31T23:59:59.999999Z', '1970-01-01T00:00:00', 'PT0S', 'P0M'],
    ]);
  });

  it('decodes arrays, structs and maps recursively, with exact values inside', () => {
    const ints = makeData({ type: new Int64(), length: 3, nullCount: 0, data: new BigInt64Array([1n, 2n, 3n]) });
    const list = makeData({
      type: new List(new Field('element', new Int64(), true)),
      length: 2,
      nullCount: 0,
      valueOffsets: new Int32Array([0, 2, 3]),
      child: ints,
    });
    const xs = makeData({ type: new Int32(), length: 2, nullCount: 0, data: new Int32Array([7, 8]) });
    const ys = vectorFromArray(['a', 'b'], new Utf8()).data[0] as ReturnType<typeof makeData>;
    const structType = new Struct([new Field('x', new Int32(), true), new Field('y', new Utf8(), true)]);
    const struct = makeData({ type: structType, length: 2, nullCount: 0, children: [xs, ys] });
    const keys = vectorFromArray(['k1', 'k2', 'k3'], new Utf8()).data[0] as ReturnType<typeof makeData>;
    const values = makeData({ type: new Int32(), length: 3, nullCount: 0, data: new Int32Array([1, 2, 3]) });
    const entriesType = new Struct([new Field('key', new Utf8(), false), new Field('value', new Int32(), true)]);
    const entries = makeData({ type: entriesType, length: 3, nullCount: 0, children: [keys, values] });
    const map = makeData({
      type: new Map_(new Field('entries', entriesType, false)),
      length: 2,
      nullCount: 0,
      valueOffsets: new Int32Array([0, 1, 3]),
      child: entries,
    });
    assert.deepEqual(decodeArrowBatches(ipcOf({ list, struct, map })).rows, [
      [['1', '2'], { x: 7, y: 'a' }, { k1: 1 }],
      [['3'], { x: 8, y: 'b' }, { k2: 2, k3: 3 }],
    ]);
  });

  it('formats decimals of any scale exactly', () => {
    assert.equal(decimalText(12345n, 2), '123.45');
    assert.equal(decimalText(-5n, 3), '-0.005');
    assert.equal(decimalText(7n, 0), '7');
    assert.equal(decimalText(7n, -2), '700');
    assert.equal(decimalText(10n ** 37n, 10), `${'1'.padEnd(28, '0')}.0000000000`);
  });
});
