/**
 * ACPI DMAR table encoder (docs/vtd-formats.md §1) for tests and the sample generator: a declarative
 * description in, table bytes with a correct checksum out. Structures are written in ascending
 * type order (DRHD, RMRR, ATSR, RHSA, ANDD, SATC, SIDP, then `extra`), as firmware does.
 */

export interface ScopeDesc {
  /** 1 endpoint, 2 bridge, 3 IOAPIC, 4 HPET, 5 ACPI namespace device. */
  type: number;
  enumId?: number;
  /** Scope flags byte (meaningful for SIDP only). */
  flags?: number;
  startBus: number;
  /** [device, function] hops; at least one. */
  path: [number, number][];
}

export interface DrhdDesc { flags?: number; segment?: number; base: number | bigint; size?: number; scopes?: ScopeDesc[] }
export interface RmrrDesc { segment?: number; base: number | bigint; limit: number | bigint; scopes?: ScopeDesc[] }
export interface AtsrDesc { flags?: number; segment?: number; scopes?: ScopeDesc[] }
export interface RhsaDesc { base: number | bigint; proximityDomain: number }
/** `name` is written NUL-terminated unless `terminate` is false. */
export interface AnddDesc { deviceNumber: number; name: string; terminate?: boolean }
export interface SatcDesc { flags?: number; segment?: number; scopes?: ScopeDesc[] }
export interface SidpDesc { segment?: number; scopes?: ScopeDesc[] }
/** A raw structure: `body` follows the 4-byte type/length header. */
export interface RawStructDesc { type: number; body: Uint8Array; length?: number }

export type DmarCorruption =
  /** Checksum byte off by one. */
  | 'checksum'
  /** Length field claims 16 bytes more than the table has (the checksum still covers the real bytes). */
  | 'length'
  | { checksum?: number; length?: number };

export interface DmarDesc {
  /** Host address width in bits (written as haw − 1). */
  haw: number;
  flags?: number;
  revision?: number;
  oemId?: string;
  oemTableId?: string;
  oemRevision?: number;
  creatorId?: string;
  creatorRevision?: number;
  drhd?: DrhdDesc[];
  rmrr?: RmrrDesc[];
  atsr?: AtsrDesc[];
  rhsa?: RhsaDesc[];
  andd?: AnddDesc[];
  satc?: SatcDesc[];
  sidp?: SidpDesc[];
  extra?: RawStructDesc[];
  /** Damage the table after building it (tests). */
  corrupt?: DmarCorruption;
}

class Writer {
  private buf = new Uint8Array(256);
  private view = new DataView(this.buf.buffer);
  length = 0;

  private grow(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.length + n));
    next.set(this.buf);
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
  u8(v: number): void { this.grow(1); this.view.setUint8(this.length, v & 0xff); this.length += 1; }
  u16(v: number): void { this.grow(2); this.view.setUint16(this.length, v & 0xffff, true); this.length += 2; }
  u32(v: number): void { this.grow(4); this.view.setUint32(this.length, v >>> 0, true); this.length += 4; }
  u64(v: number | bigint): void {
    this.grow(8);
    this.view.setBigUint64(this.length, BigInt.asUintN(64, BigInt(v)), true);
    this.length += 8;
  }
  bytes(b: Uint8Array): void { this.grow(b.length); this.buf.set(b, this.length); this.length += b.length; }
  /** ASCII, padded with spaces (or cut) to n bytes. */
  ascii(s: string, n: number): void {
    for (let i = 0; i < n; i++) this.u8(i < s.length ? s.charCodeAt(i) : 0x20);
  }
  zeros(n: number): void { for (let i = 0; i < n; i++) this.u8(0); }
  patch16(at: number, v: number): void { this.view.setUint16(at, v, true); }
  patch32(at: number, v: number): void { this.view.setUint32(at, v >>> 0, true); }
  done(): Uint8Array { return this.buf.slice(0, this.length); }
}

function writeScopes(w: Writer, scopes: ScopeDesc[] | undefined): void {
  for (const s of scopes ?? []) {
    w.u8(s.type);
    w.u8(6 + 2 * s.path.length);
    w.u8(s.flags ?? 0);
    w.u8(0);
    w.u8(s.enumId ?? 0);
    w.u8(s.startBus);
    for (const [dev, fn] of s.path) { w.u8(dev); w.u8(fn); }
  }
}

/** Write one structure: header, then `body` writes the rest; the Length is patched afterwards. */
function structure(w: Writer, type: number, body: () => void): void {
  const start = w.length;
  w.u16(type);
  w.u16(0);
  body();
  w.patch16(start + 2, w.length - start);
}

/** Encode a DMAR table. */
export function encodeDmar(d: DmarDesc): Uint8Array {
  const w = new Writer();
  w.ascii('DMAR', 4);
  w.u32(0); // Length, patched
  w.u8(d.revision ?? 1);
  w.u8(0); // checksum, patched
  w.ascii(d.oemId ?? 'DMRSFT', 6);
  w.ascii(d.oemTableId ?? 'SYNTH', 8);
  w.u32(d.oemRevision ?? 1);
  w.ascii(d.creatorId ?? 'DSFT', 4);
  w.u32(d.creatorRevision ?? 1);
  w.u8(d.haw - 1);
  w.u8(d.flags ?? 0);
  w.zeros(10);

  for (const s of d.drhd ?? []) {
    structure(w, 0, () => {
      w.u8(s.flags ?? 0); w.u8(s.size ?? 0); w.u16(s.segment ?? 0); w.u64(s.base);
      writeScopes(w, s.scopes);
    });
  }
  for (const s of d.rmrr ?? []) {
    structure(w, 1, () => {
      w.u16(0); w.u16(s.segment ?? 0); w.u64(s.base); w.u64(s.limit);
      writeScopes(w, s.scopes);
    });
  }
  for (const s of d.atsr ?? []) {
    structure(w, 2, () => { w.u8(s.flags ?? 0); w.u8(0); w.u16(s.segment ?? 0); writeScopes(w, s.scopes); });
  }
  for (const s of d.rhsa ?? []) {
    structure(w, 3, () => { w.u32(0); w.u64(s.base); w.u32(s.proximityDomain); });
  }
  for (const s of d.andd ?? []) {
    structure(w, 4, () => {
      w.zeros(3); w.u8(s.deviceNumber);
      for (let i = 0; i < s.name.length; i++) w.u8(s.name.charCodeAt(i));
      if (s.terminate !== false) w.u8(0);
    });
  }
  for (const s of d.satc ?? []) {
    structure(w, 5, () => { w.u8(s.flags ?? 0); w.u8(0); w.u16(s.segment ?? 0); writeScopes(w, s.scopes); });
  }
  for (const s of d.sidp ?? []) {
    structure(w, 6, () => { w.u16(0); w.u16(s.segment ?? 0); writeScopes(w, s.scopes); });
  }
  for (const s of d.extra ?? []) {
    w.u16(s.type); w.u16(s.length ?? 4 + s.body.length); w.bytes(s.body);
  }

  w.patch32(4, w.length);
  const out = w.done();
  let sum = 0;
  for (const b of out) sum = (sum + b) & 0xff;
  out[9] = (0x100 - sum) & 0xff;

  const c = d.corrupt;
  if (c === 'checksum') out[9] = (out[9] + 1) & 0xff;
  else if (c === 'length') new DataView(out.buffer).setUint32(4, out.length + 16, true);
  else if (c) {
    if (c.checksum !== undefined) out[9] = c.checksum & 0xff;
    if (c.length !== undefined) new DataView(out.buffer).setUint32(4, c.length >>> 0, true);
  }
  return out;
}
