/**
 * A sparse physical memory under construction, for tests and the sample generator only:
 * 4 KiB pages by page frame number, plus a simple allocator handing out zeroed pages at
 * plausible host addresses. Never used by decoders.
 */
export class PhysBuilder {
  readonly pages = new Map<number, Uint8Array>();
  private nextPfn: number;

  /** `allocBase`: first physical address the allocator hands out (e.g. 0x2640000, like Linux). */
  constructor(allocBase = 0x2640000) {
    this.nextPfn = Math.floor(allocBase / 4096);
  }

  /** Continue allocating from `addr` (skipping pages already in use). */
  moveTo(addr: number): void {
    this.nextPfn = Math.floor(addr / 4096);
  }

  /** A fresh zeroed page; returns its physical address. */
  alloc(): number {
    while (this.pages.has(this.nextPfn)) this.nextPfn++;
    const pfn = this.nextPfn++;
    this.pages.set(pfn, new Uint8Array(4096));
    return pfn * 4096;
  }

  /** Ensure the page holding `addr` exists (zero-filled) and return it. */
  page(addr: number): Uint8Array {
    const pfn = Math.floor(addr / 4096);
    let p = this.pages.get(pfn);
    if (!p) {
      p = new Uint8Array(4096);
      this.pages.set(pfn, p);
    }
    return p;
  }

  /** Write a 64-bit little-endian value as two 32-bit halves (no bigint on the hot path). */
  write64(addr: number, lo: number, hi: number): void {
    const p = this.page(addr);
    const dv = new DataView(p.buffer, p.byteOffset, 4096);
    const off = addr % 4096;
    dv.setUint32(off, lo >>> 0, true);
    dv.setUint32(off + 4, hi >>> 0, true);
  }

  writeQword(addr: number, value: bigint): void {
    this.write64(addr, Number(value & 0xffffffffn), Number((value >> 32n) & 0xffffffffn));
  }

  readQword(addr: number): bigint {
    const p = this.pages.get(Math.floor(addr / 4096));
    if (!p) return 0n;
    return new DataView(p.buffer, p.byteOffset, 4096).getBigUint64(addr % 4096, true);
  }

  writeBytes(addr: number, bytes: Uint8Array): void {
    for (let i = 0; i < bytes.length; ) {
      const p = this.page(addr + i);
      const off = (addr + i) % 4096;
      const n = Math.min(4096 - off, bytes.length - i);
      p.set(bytes.subarray(i, i + n), off);
      i += n;
    }
  }
}
