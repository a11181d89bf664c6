import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ProtoReader, ProtoWriter, ProtobufDecodeError, WireType } from './wire.js';

function reader(bytes: number[]): ProtoReader {
  return new ProtoReader(Uint8Array.from(bytes));
}

describe('protobuf wire format', () => {
  it('varints: one byte, multi-byte, 2^53, and the 10-byte negatives of int32/int64', () => {
    assert.equal(reader([0x01]).readVarint(), 1);
    assert.equal(reader([0xac, 0x02]).readVarint(), 300);
    const w = new ProtoWriter(1);
    w.varint(2 ** 53 - 1).signedVarint(-1).signedVarint(-(2 ** 31)).signedVarint(2n ** 62n);
    const r = new ProtoReader(w.finish());
    assert.equal(r.readVarint(), 2 ** 53 - 1);
    assert.equal(r.readInt32(), -1);
    assert.equal(r.readInt64(), -(2 ** 31));
    assert.equal(r.readVarintBig(), 2n ** 62n);
    assert.ok(r.done);
    assert.deepEqual([...new ProtoWriter().signedVarint(-1).finish()], [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
  });

  it('strings, bytes and tags', () => {
    const w = new ProtoWriter(2);
    w.tag(1, WireType.LengthDelimited).string('héllo ✓');
    w.tag(2, WireType.LengthDelimited).bytes(Uint8Array.from([0, 255]));
    w.tag(536870911, WireType.Varint).varint(0);
    const r = new ProtoReader(w.finish());
    assert.deepEqual(r.readTag(), { field: 1, wireType: 2 });
    assert.equal(r.readString(), 'héllo ✓');
    assert.deepEqual(r.readTag(), { field: 2, wireType: 2 });
    assert.deepEqual([...r.readBytes()], [0, 255]);
    assert.deepEqual(r.readTag(), { field: 536870911, wireType: 0 });
  });

  it('fixed32/64 and doubles', () => {
    const w = new ProtoWriter();
    w.fixed32(0xdeadbeef).fixed64(2 ** 40).double(1.5).float(0.25);
    const r = new ProtoReader(w.finish());
    assert.equal(r.readFixed32().getUint32(0, true), 0xdeadbeef);
    assert.equal(r.readFixed64().getBigUint64(0, true), 2n ** 40n);
    assert.equal(r.readFixed64().getFloat64(0, true), 1.5);
    assert.equal(r.readFixed32().getFloat32(0, true), 0.25);
  });

  it('skips every supported wire type and rejects groups', () => {
    const r = reader([0x96, 0x01, 1, 2, 3, 4, 5, 6, 7, 8, 0x02, 0xaa, 0xbb, 1, 2, 3, 4]);
    r.skip(WireType.Varint);
    r.skip(WireType.Fixed64);
    r.skip(WireType.LengthDelimited);
    r.skip(WireType.Fixed32);
    assert.ok(r.done);
    assert.throws(() => reader([]).skip(WireType.StartGroup), ProtobufDecodeError);
    assert.throws(() => reader([]).skip(7), ProtobufDecodeError);
  });

  it('every read is bounds-checked', () => {
    assert.throws(() => reader([0x80]).readVarint(), /truncated varint/);
    assert.throws(() => reader(Array(11).fill(0xff)).readVarint(), /varint/);
    assert.throws(() => reader([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02]).readVarintBig(), /overflows 64 bits/);
    assert.throws(() => reader([0x05, 0x61]).readString(), /runs past the end/);
    assert.throws(() => reader([1, 2, 3]).readFixed32(), /truncated fixed32/);
    assert.throws(() => reader([1, 2, 3, 4, 5, 6, 7]).readFixed64(), /truncated fixed64/);
    assert.throws(() => reader([0x00]).readTag(), /field number 0/);
    // a sub-range reader does not read past its end even when the buffer goes on
    const sub = new ProtoReader(Uint8Array.from([0x03, 0x61, 0x62, 0x63]), 0, 2);
    assert.throws(() => sub.readString(), ProtobufDecodeError);
  });
});
