/**
 * Protocol Buffers wire format: a bounds-checked reader and a growable writer.
 *
 * Only what Kubernetes' generated.proto files need: varints, length-delimited fields and the
 * fixed 32/64-bit encodings (read so unknown fields can be skipped). Every read checks its
 * bounds, so a hostile or truncated body ends in a {@link ProtobufDecodeError}, never in a
 * RangeError or an infinite loop.
 */

/** Malformed protobuf input (bad magic, truncated varint, length past the end, wrong wire type…). */
export class ProtobufDecodeError extends Error {
  override name = 'ProtobufDecodeError';
}

/** The wire types of the protobuf encoding. Groups (3, 4) are deprecated and rejected. */
export const WireType = {
  Varint: 0,
  Fixed64: 1,
  LengthDelimited: 2,
  StartGroup: 3,
  EndGroup: 4,
  Fixed32: 5,
} as const;

/** Reads one protobuf message (a byte range) field by field. */
export class ProtoReader {
  pos: number;
  readonly end: number;
  readonly buf: Buffer;

  constructor(buf: Uint8Array, start = 0, end = buf.length) {
    // A Buffer view (no copy) for its fast UTF-8 decoding.
    this.buf = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
    this.pos = start;
    this.end = end;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  /** Reads an unsigned varint as a number (exact up to 2^53: tags, lengths, small values). */
  readVarint(): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      const b = this.byte();
      if (i === 9 && b > 0x01) throw new ProtobufDecodeError('varint overflows 64 bits');
      result += (b & 0x7f) * scale;
      if (b < 0x80) return result;
      scale *= 128;
    }
    throw new ProtobufDecodeError('varint longer than 10 bytes');
  }

  /** Reads a varint as a 64-bit unsigned BigInt (exact). */
  readVarintBig(): bigint {
    let result = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      const b = this.byte();
      if (i === 9 && b > 0x01) throw new ProtobufDecodeError('varint overflows 64 bits');
      result |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return result;
      shift += 7n;
    }
    throw new ProtobufDecodeError('varint longer than 10 bytes');
  }

  /** int32: varint whose low 32 bits are the two's complement value (negatives take 10 bytes). */
  readInt32(): number {
    const start = this.pos;
    const value = this.readVarint();
    if (this.pos - start <= 4) return value; // < 2^28: exact, positive
    this.pos = start;
    return Number(BigInt.asIntN(32, this.readVarintBig()));
  }

  /** int64 as a number (exact up to 2^53, like JSON numbers in JavaScript). */
  readInt64(): number {
    const start = this.pos;
    const value = this.readVarint();
    if (this.pos - start <= 7) return value; // < 2^49: exact, positive
    this.pos = start;
    return Number(BigInt.asIntN(64, this.readVarintBig()));
  }

  readUint64(): number {
    return Number(this.readVarintBig());
  }

  readBool(): boolean {
    return this.readVarint() !== 0;
  }

  /** A field key: field number and wire type. */
  readTag(): { field: number; wireType: number } {
    const key = this.readVarint();
    const field = Math.floor(key / 8);
    const wireType = key & 7;
    if (field === 0) throw new ProtobufDecodeError(`invalid field number 0 at byte ${this.pos}`);
    if (field > 0x1fffffff) throw new ProtobufDecodeError(`field number ${field} out of range`);
    return { field, wireType };
  }

  /** The byte range of a length-delimited field, bounds-checked. */
  readLengthDelimited(): { start: number; end: number } {
    const len = this.readVarint();
    const start = this.pos;
    if (len > this.end - start) {
      throw new ProtobufDecodeError(`length ${len} at byte ${start} runs past the end of the message (${this.end - start} bytes left)`);
    }
    this.pos = start + len;
    return { start, end: start + len };
  }

  readBytes(): Uint8Array {
    const { start, end } = this.readLengthDelimited();
    return this.buf.subarray(start, end);
  }

  readString(): string {
    const { start, end } = this.readLengthDelimited();
    return this.buf.toString('utf8', start, end);
  }

  readFixed32(): DataView {
    return this.fixed(4);
  }

  readFixed64(): DataView {
    return this.fixed(8);
  }

  /** Skips a field's value of the given wire type (unknown fields are ignored, as in Go). */
  skip(wireType: number): void {
    switch (wireType) {
      case WireType.Varint:
        this.readVarintBig();
        return;
      case WireType.Fixed64:
        this.fixed(8);
        return;
      case WireType.LengthDelimited:
        this.readLengthDelimited();
        return;
      case WireType.Fixed32:
        this.fixed(4);
        return;
      default:
        throw new ProtobufDecodeError(`unsupported wire type ${wireType} at byte ${this.pos}`);
    }
  }

  private byte(): number {
    if (this.pos >= this.end) throw new ProtobufDecodeError(`truncated varint at byte ${this.pos}`);
    return this.buf[this.pos++]!;
  }

  private fixed(size: number): DataView {
    if (this.end - this.pos < size) throw new ProtobufDecodeError(`truncated fixed${size * 8} at byte ${this.pos}`);
    const view = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, size);
    this.pos += size;
    return view;
  }
}

/** Writes a protobuf message; nested messages are written into a child writer and copied in. */
export class ProtoWriter {
  private buf: Buffer;
  private len = 0;

  constructor(initial = 256) {
    this.buf = Buffer.allocUnsafe(initial);
  }

  get length(): number {
    return this.len;
  }

  /** The bytes written so far (a view, valid until the next write). */
  finish(): Buffer {
    return this.buf.subarray(0, this.len);
  }

  tag(field: number, wireType: number): this {
    return this.varint(field * 8 + wireType);
  }

  /** Non-negative integer up to 2^53. */
  varint(value: number): this {
    this.ensure(10);
    let v = value;
    while (v >= 0x80) {
      this.buf[this.len++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.len++] = v;
    return this;
  }

  /** Signed int32/int64 as protobuf does: negatives are sign-extended to 64 bits (10 bytes). */
  signedVarint(value: number | bigint): this {
    if (typeof value === 'number' && value >= 0) return this.varint(value);
    let v = BigInt.asUintN(64, BigInt(value));
    this.ensure(10);
    while (v >= 0x80n) {
      this.buf[this.len++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    this.buf[this.len++] = Number(v);
    return this;
  }

  bytes(data: Uint8Array): this {
    this.varint(data.length);
    this.ensure(data.length);
    this.buf.set(data, this.len);
    this.len += data.length;
    return this;
  }

  string(value: string): this {
    const size = Buffer.byteLength(value, 'utf8');
    this.varint(size);
    this.ensure(size);
    this.len += this.buf.write(value, this.len, 'utf8');
    return this;
  }

  double(value: number): this {
    this.ensure(8);
    this.buf.writeDoubleLE(value, this.len);
    this.len += 8;
    return this;
  }

  float(value: number): this {
    this.ensure(4);
    this.buf.writeFloatLE(value, this.len);
    this.len += 4;
    return this;
  }

  fixed32(value: number): this {
    this.ensure(4);
    this.buf.writeUInt32LE(value >>> 0, this.len);
    this.len += 4;
    return this;
  }

  fixed64(value: number): this {
    this.ensure(8);
    this.buf.writeBigUInt64LE(BigInt.asUintN(64, BigInt(value)), this.len);
    this.len += 8;
    return this;
  }

  private ensure(extra: number): void {
    if (this.len + extra <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + extra) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }
}
