import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deflateRawSync } from 'node:zlib';
import { zipEntries } from './zip-entries.ts';

/** A minimal zip archive with the given entries, stored or deflated (what jar tools write). */
function makeZip(entries: { name: string; data: Buffer; deflate: boolean }[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const body = e.deflate ? deflateRawSync(e.data) : e.data;
    const name = Buffer.from(e.name);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(e.deflate ? 8 : 0, 8);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(e.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(e.deflate ? 8 : 0, 10);
    central.writeUInt32LE(body.length, 20);
    central.writeUInt32LE(e.data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, body);
    centrals.push(central, name);
    offset += 30 + name.length + body.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

describe('zipEntries', () => {
  it('reads stored and deflated entries that the filter selects', () => {
    const proto = Buffer.from('syntax = "proto3";\n'.repeat(50));
    const zip = makeZip([
      { name: 'spark/connect/base.proto', data: proto, deflate: true },
      { name: 'META-INF/MANIFEST.MF', data: Buffer.from('Manifest-Version: 1.0\n'), deflate: false },
      { name: 'spark/connect/types.proto', data: Buffer.from('message T {}'), deflate: false },
    ]);
    const found = zipEntries(zip, (n) => n.endsWith('.proto'));
    assert.deepEqual([...found.keys()], ['spark/connect/base.proto', 'spark/connect/types.proto']);
    assert.equal(found.get('spark/connect/base.proto')?.toString(), proto.toString());
    assert.equal(found.get('spark/connect/types.proto')?.toString(), 'message T {}');
  });

  it('rejects what is not a zip', () => {
    assert.throws(() => zipEntries(Buffer.from('not a zip at all, just text that is long enough'), () => true), /not a zip/);
  });
});
