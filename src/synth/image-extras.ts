/**
 * What a memory image holds besides the I/O MMU's own pages, for samples `scan` must search:
 * pages of other data, and decoys that pass the root-entry test but are no root table. Plus an
 * ELF64 core writer (QEMU dump-guest-memory / Linux vmcore shape: ET_CORE, one PT_LOAD per run
 * of pages, p_paddr = physical address) so a sample exercises the ELF path of the scanner,
 * including a PT_LOAD whose p_memsz exceeds p_filesz (zero-filled memory not stored in the file).
 */
import * as fs from 'node:fs';
import type { PhysBuilder } from './phys.js';

export interface NoiseOptions {
  /** Pages of pseudo-random bytes, in runs at free addresses from `at`. */
  randomPages: number;
  at: number;
  /**
   * Decoys, each a page scan must not take for the root table: a page of small integers with bit 0
   * set (pointers to data pages), and a stale root table of an earlier boot whose only context
   * table holds one entry (well-formed, so it is a real but weaker candidate: the runner-up).
   */
  decoys: boolean;
}

export interface NoiseResult {
  /** Physical address of each decoy, by kind. */
  decoys: { kind: 'pointers-to-data' | 'stale-root-table'; addr: number }[];
}

export function addNoise(phys: PhysBuilder, rand: () => number, o: NoiseOptions): NoiseResult {
  phys.moveTo(o.at);
  const dataPages: number[] = [];
  for (let i = 0; i < o.randomPages; i++) {
    const a = phys.alloc();
    const p = phys.page(a);
    for (let k = 0; k < 4096; k += 4) {
      const v = Math.floor(rand() * 4294967296);
      p[k] = v & 0xff;
      p[k + 1] = (v >>> 8) & 0xff;
      p[k + 2] = (v >>> 16) & 0xff;
      p[k + 3] = v >>> 24;
    }
    dataPages.push(a);
  }
  const out: NoiseResult = { decoys: [] };
  if (!o.decoys) return out;
  // A table of pointers to data pages, each with bit 0 set: root-shaped, but what it points at is noise.
  const ptrs = phys.alloc();
  for (let i = 0; i < 16 && i < dataPages.length; i++) phys.write64(ptrs + i * 16, (dataPages[i] % 4294967296) | 1, Math.floor(dataPages[i] / 4294967296));
  out.decoys.push({ kind: 'pointers-to-data', addr: ptrs });
  // A stale legacy root table: bus 0 → a context table with one entry (00:1f.0, DID 9, AW 2) → an empty top-level page.
  const stale = phys.alloc();
  const ctx = phys.alloc();
  const top = phys.alloc();
  phys.write64(stale, ctx | 1, 0);
  phys.write64(ctx + 0xf8 * 16, top | 1, 0);
  phys.write64(ctx + 0xf8 * 16 + 8, 2 | (9 << 8), 0);
  out.decoys.push({ kind: 'stale-root-table', addr: stale });
  return out;
}

/**
 * Write an ELF64 core of `pages` (PFN → 4 KiB): one PT_LOAD per run of consecutive PFNs; `zeroTail`
 * extends the last run's p_memsz by that many bytes of memory the file does not store.
 */
export function writeElfCore(file: string, pages: Map<number, Uint8Array>, zeroTail = 0): void {
  const pfns = [...pages.keys()].sort((a, b) => a - b);
  const runs: { pfn: number; n: number }[] = [];
  for (const pfn of pfns) {
    const last = runs[runs.length - 1];
    if (last && last.pfn + last.n === pfn) last.n++;
    else runs.push({ pfn, n: 1 });
  }
  const phoff = 64;
  const headers = phoff + runs.length * 56;
  const dataOff = Math.ceil(headers / 4096) * 4096;
  const head = new Uint8Array(dataOff);
  const dv = new DataView(head.buffer);
  head.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0], 0); // ELFCLASS64, little-endian, version 1
  dv.setUint16(16, 4, true); // ET_CORE
  dv.setUint16(18, 62, true); // EM_X86_64
  dv.setUint32(20, 1, true);
  dv.setBigUint64(32, BigInt(phoff), true);
  dv.setUint16(52, 64, true);
  dv.setUint16(54, 56, true);
  dv.setUint16(56, runs.length, true);
  let off = dataOff;
  runs.forEach((r, i) => {
    const at = phoff + i * 56;
    const filesz = r.n * 4096;
    dv.setUint32(at, 1, true); // PT_LOAD
    dv.setUint32(at + 4, 7, true); // RWX
    dv.setBigUint64(at + 8, BigInt(off), true);
    dv.setBigUint64(at + 16, 0n, true); // p_vaddr 0, as QEMU's paging=false dumps
    dv.setBigUint64(at + 24, BigInt(r.pfn * 4096), true);
    dv.setBigUint64(at + 32, BigInt(filesz), true);
    dv.setBigUint64(at + 40, BigInt(filesz + (i === runs.length - 1 ? zeroTail : 0)), true);
    dv.setBigUint64(at + 48, 4096n, true);
    off += filesz;
  });
  const fd = fs.openSync(file, 'w');
  try {
    fs.writeSync(fd, head, 0, head.length, 0);
    let pos = dataOff;
    for (const r of runs) {
      for (let k = 0; k < r.n; k++) {
        fs.writeSync(fd, pages.get(r.pfn + k)!, 0, 4096, pos);
        pos += 4096;
      }
    }
  } finally {
    fs.closeSync(fd);
  }
}
