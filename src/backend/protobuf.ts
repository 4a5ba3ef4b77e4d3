/**
 * The few protocol-buffer encodings the native TensorFlow backend needs (FunctionDef out, OpList in): varints,
 * length-delimited fields and fixed32 floats, written and read without a schema compiler.
 */

/** Appends protocol-buffer fields to a growing byte buffer. */
export class PbWriter {
  private buf = new Uint8Array(256);
  private len = 0;

  private reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  /** An unsigned varint; negative integers as 64-bit two's complement (10 bytes), as protobuf writes int64. */
  varint(v: number | bigint): this {
    let x = BigInt.asUintN(64, BigInt(v));
    this.reserve(10);
    while (x >= 0x80n) {
      this.buf[this.len++] = Number(x & 0x7fn) | 0x80;
      x >>= 7n;
    }
    this.buf[this.len++] = Number(x);
    return this;
  }

  private tag(field: number, wire: number): this {
    return this.varint((field << 3) | wire);
  }

  /** Varint field (int32/int64/enum/bool). */
  int(field: number, v: number | bigint | boolean): this {
    return this.tag(field, 0).varint(typeof v === 'boolean' ? (v ? 1 : 0) : v);
  }

  /** fixed32 float field. */
  float(field: number, v: number): this {
    this.tag(field, 5);
    this.reserve(4);
    new DataView(this.buf.buffer, this.len, 4).setFloat32(0, v, true);
    this.len += 4;
    return this;
  }

  bytes(field: number, b: Uint8Array): this {
    this.tag(field, 2).varint(b.length);
    this.reserve(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
    return this;
  }

  string(field: number, s: string): this {
    return this.bytes(field, new TextEncoder().encode(s));
  }

  message(field: number, m: PbWriter): this {
    return this.bytes(field, m.finish());
  }

  /** A packed repeated varint field. */
  packedInts(field: number, vs: ArrayLike<number | bigint | boolean>): this {
    const inner = new PbWriter();
    for (let i = 0; i < vs.length; i++) {
      const v = vs[i];
      inner.varint(typeof v === 'boolean' ? (v ? 1 : 0) : v);
    }
    return this.message(field, inner);
  }

  /** A packed repeated float field. */
  packedFloats(field: number, vs: ArrayLike<number>): this {
    const b = new Uint8Array(vs.length * 4);
    const dv = new DataView(b.buffer);
    for (let i = 0; i < vs.length; i++) dv.setFloat32(i * 4, vs[i], true);
    return this.bytes(field, b);
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

/** One field of a message: its number, wire type and value (varint as bigint, length-delimited as bytes). */
export interface PbField {
  field: number;
  wire: number;
  varint?: bigint;
  bytes?: Uint8Array;
}

/** The fields of one message, in order; throws on a truncated or malformed buffer. */
export function readFields(b: Uint8Array): PbField[] {
  const out: PbField[] = [];
  let p = 0;
  const varint = (): bigint => {
    let x = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      if (p >= b.length) throw new RangeError('protobuf: truncated varint');
      const c = b[p++];
      x |= BigInt(c & 0x7f) << shift;
      if (c < 0x80) return x;
    }
    throw new RangeError('protobuf: varint too long');
  };
  while (p < b.length) {
    const key = Number(varint());
    const field = key >>> 3;
    const wire = key & 7;
    if (wire === 0) out.push({ field, wire, varint: varint() });
    else if (wire === 2) {
      const n = Number(varint());
      if (p + n > b.length) throw new RangeError('protobuf: truncated field');
      out.push({ field, wire, bytes: b.subarray(p, p + n) });
      p += n;
    } else if (wire === 5) p += 4;
    else if (wire === 1) p += 8;
    else throw new RangeError(`protobuf: unsupported wire type ${wire}`);
  }
  if (p !== b.length) throw new RangeError('protobuf: truncated fixed-size field');
  return out;
}

export function fieldString(f: PbField): string {
  return new TextDecoder().decode(f.bytes ?? new Uint8Array(0));
}
