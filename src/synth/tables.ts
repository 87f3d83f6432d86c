/**
 * Encoders for VT-d translation structures, written from the spec's layouts (docs/vtd-formats.md
 * §3–§6) independently of the decoders. Used by tests and the sample generator only.
 */
import type { PhysBuilder } from './phys.js';

export interface LeafPerms {
  read: boolean;
  write: boolean;
  snp?: boolean;
  tm?: boolean;
}

const SIZE_4K = 4096;
const SIZE_2M = 2 * 1024 * 1024;
const SIZE_1G = 1024 * 1024 * 1024;

function split(addr: number): [number, number] {
  return [addr % 4294967296, Math.floor(addr / 4294967296)];
}

/** A second-level page table (R bit 0, W bit 1, PS bit 7, SNP bit 11, TM bit 62). */
export class SecondLevelTable {
  readonly root: number;

  /** `levels` = AW + 2 (3 for 39-bit, 4 for 48-bit, 5 for 57-bit). */
  constructor(private readonly phys: PhysBuilder, readonly levels: number, root?: number) {
    this.root = root ?? phys.alloc();
  }

  /** Map one page of `size` at IOVA page `iovaPfn` to HPA page `hpaPfn`. */
  mapPage(iovaPfn: number, hpaPfn: number, size: number, perms: LeafPerms): void {
    const leafLevel = size === SIZE_4K ? 1 : size === SIZE_2M ? 2 : size === SIZE_1G ? 3 : 0;
    if (leafLevel === 0) throw new Error(`bad page size ${size}`);
    let table = this.root;
    for (let level = this.levels; level > leafLevel; level--) {
      const index = Math.floor(iovaPfn / 512 ** (level - 1)) % 512;
      const entry = table + index * 8;
      const existing = this.phys.readQword(entry);
      if (existing & 3n) {
        table = Number(existing & 0xf_ffff_ffff_f000n);
      } else {
        const next = this.phys.alloc();
        const [lo, hi] = split(next);
        this.phys.write64(entry, lo | 3, hi); // non-leaf: R|W, as Linux writes them
        table = next;
      }
    }
    const index = Math.floor(iovaPfn / 512 ** (leafLevel - 1)) % 512;
    const [lo, hi] = split(hpaPfn * 4096);
    let l = lo | (perms.read ? 1 : 0) | (perms.write ? 2 : 0) | (perms.snp ? 0x800 : 0);
    if (leafLevel > 1) l |= 0x80;
    const h = hi | (perms.tm ? 0x40000000 : 0);
    this.phys.write64(table + index * 8, l, h);
  }

  /** Map `pages` 4 KiB pages (or whole superpages when `size` is larger). */
  mapRange(iovaPfn: number, hpaPfn: number, pages: number, size: number, perms: LeafPerms): void {
    const step = size / 4096;
    for (let i = 0; i < pages; i += step) this.mapPage(iovaPfn + i, hpaPfn + i, size, perms);
  }

  /** Write a raw entry at (level, index path) — for hostile-table tests. */
  rawEntry(tableAddr: number, index: number, lo: number, hi: number): void {
    this.phys.write64(tableAddr + index * 8, lo, hi);
  }
}

export interface LegacyContextSpec {
  bus: number;
  devfn: number;
  /** 0 UNTR, 1 TR, 2 PASS. */
  tt: number;
  aw: number;
  did: number;
  slptptr: number;
  fpd?: boolean;
  present?: boolean;
}

/** Builds a legacy root table and the context tables it points at. Returns the root address. */
export function buildLegacyRootTable(phys: PhysBuilder, contexts: LegacyContextSpec[], rootAddr?: number): number {
  const root = rootAddr ?? phys.alloc();
  const ctxTables = new Map<number, number>();
  for (const c of contexts) {
    let ct = ctxTables.get(c.bus);
    if (ct === undefined) {
      ct = phys.alloc();
      ctxTables.set(c.bus, ct);
      const [lo, hi] = split(ct);
      phys.write64(root + c.bus * 16, lo | 1, hi);
    }
    const [slo, shi] = split(c.slptptr);
    const lo = slo | (c.present === false ? 0 : 1) | (c.fpd ? 2 : 0) | (c.tt << 2);
    phys.write64(ct + c.devfn * 16, lo, shi);
    phys.write64(ct + c.devfn * 16 + 8, c.aw | (c.did << 8), 0);
  }
  return root;
}

