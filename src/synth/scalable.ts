/**
 * Scalable-mode structures for the sample generator, written from the spec's layouts (docs/vtd-formats.md
 * §3, §5, §6.2) independently of the decoders: a first-level (IA-32e) page table with the same
 * interface as SecondLevelTable, and the scalable root entries, 256-bit context entries, PASID
 * directories and 512-bit PASID entries of one unit, written into an already allocated root table.
 */
import { parseBdf } from '../util/bdf.js';
import type { PhysBuilder } from './phys.js';
import type { Scenario } from './scenario.js';
import { SecondLevelTable, type LeafPerms } from './tables.js';

const SIZE_2M = 2 * 1024 * 1024;
const SIZE_1G = 1024 * 1024 * 1024;

function split(addr: number): [number, number] {
  return [addr % 4294967296, Math.floor(addr / 4294967296)];
}

/**
 * A first-level table (P bit 0, R/W bit 1, U/S bit 2, PS bit 7 in PDE/PDPE, XD bit 63) as Linux
 * writes it for DMA domains: non-leaf entries P|R/W|U/S, leaves P|U/S plus R/W when writable.
 * A read-only mapping is P without R/W (first level has no "not readable" leaf).
 */
export class FirstLevelPageTable extends SecondLevelTable {
  constructor(private readonly pb: PhysBuilder, levels: 4 | 5, root?: number) {
    super(pb, levels, root);
  }

  override mapPage(iovaPfn: number, hpaPfn: number, size: number, perms: LeafPerms): void {
    const leafLevel = size === 4096 ? 1 : size === SIZE_2M ? 2 : size === SIZE_1G ? 3 : 0;
    if (leafLevel === 0) throw new Error(`bad page size ${size}`);
    let table = this.root;
    for (let level = this.levels; level > leafLevel; level--) {
      const entry = table + (Math.floor(iovaPfn / 512 ** (level - 1)) % 512) * 8;
      const existing = this.pb.readQword(entry);
      if (existing & 1n) table = Number(existing & 0xf_ffff_ffff_f000n);
      else {
        const next = this.pb.alloc();
        const [lo, hi] = split(next);
        this.pb.write64(entry, lo | 7, hi);
        table = next;
      }
    }
    const [lo, hi] = split(hpaPfn * 4096);
    const l = lo | 1 | 4 | (perms.write ? 2 : 0) | (leafLevel > 1 ? 0x80 : 0);
    this.pb.write64(table + (Math.floor(iovaPfn / 512 ** (leafLevel - 1)) % 512) * 8, l, hi | 0x80000000); // XD: DMA never executes
  }
}

export interface ScalablePasid {
  pasid: number;
  /** 1 first-level, 2 second-level, 3 nested, 4 pass-through. */
  pgtt: number;
  did: number;
  /** Second-level AW (PGTT 2/3). */
  aw: number;
  slptptr: number;
  flptptr: number;
  /** 0 four-level, 1 five-level (PGTT 1). */
  flpm: number;
  sre?: boolean;
  fpd?: boolean;
}

export interface ScalableContext {
  bus: number;
  devfn: number;
  ridPasid: number;
  /** PASID directory size: 2^(pdts+7) entries (8 bytes each; pdts ≤ 2 keeps it in one page). */
  pdts: number;
  paside: boolean;
  pasids: ScalablePasid[];
}

/**
 * Fill `root` (a zeroed page) with scalable root entries and build everything below it.
 * Root entry (§3): lo = LCTP | LP for devfn 0x00–0x7f, hi = UCTP | UP for 0x80–0xff.
 * Context entry (§5.1): q0 = PASIDDIRPTR | PDTS << 9 | PASIDE << 3 | P; q1 = RID_PASID.
 * PASID directory entry (§5.2): PASID-table pointer | P, index PASID >> 6.
 * PASID entry (§5.3): q0 = SLPTPTR | PGTT << 6 | AW << 2 | FPD << 1 | P; q1 = DID;
 *   q2 = FLPTPTR | FLPM << 2 | SRE.
 */
export function writeScalableTables(phys: PhysBuilder, root: number, contexts: ScalableContext[]): void {
  const halves = new Map<string, number>();
  for (const c of contexts) {
    if (c.pdts > 2) throw new Error('scenario: PDTS above 2 needs a multi-page PASID directory (not generated)');
    const upper = c.devfn >= 0x80 ? 1 : 0;
    const key = `${c.bus}:${upper}`;
    let ct = halves.get(key);
    if (ct === undefined) {
      ct = phys.alloc();
      halves.set(key, ct);
      const [lo, hi] = split(ct);
      phys.write64(root + c.bus * 16 + upper * 8, lo | 1, hi);
    }
    const dir = phys.alloc();
    const [dlo, dhi] = split(dir);
    const entry = ct + (c.devfn & 0x7f) * 32;
    phys.write64(entry, dlo | (c.pdts << 9) | (c.paside ? 8 : 0) | 1, dhi);
    phys.write64(entry + 8, c.ridPasid, 0);
    const tables = new Map<number, number>();
    for (const p of c.pasids) {
      const di = p.pasid >> 6;
      if (di >= 2 ** (c.pdts + 7)) throw new Error(`scenario: PASID ${p.pasid} beyond the directory (PDTS ${c.pdts})`);
      let pt = tables.get(di);
      if (pt === undefined) {
        pt = phys.alloc();
        tables.set(di, pt);
        const [lo, hi] = split(pt);
        phys.write64(dir + di * 8, lo | 1, hi);
      }
      const e = pt + (p.pasid & 0x3f) * 64;
      const sl = p.pgtt === 2 || p.pgtt === 3 ? p.slptptr : 0;
      const [slo, shi] = split(sl);
      phys.write64(e, slo | (p.pgtt << 6) | ((p.pgtt === 2 || p.pgtt === 3 ? p.aw : 0) << 2) | (p.fpd ? 2 : 0) | 1, shi);
      phys.write64(e + 8, p.did, 0);
      const fl = p.pgtt === 1 || p.pgtt === 3 ? p.flptptr : 0;
      const [flo, fhi] = split(fl);
      phys.write64(e + 16, flo | (p.pgtt === 1 ? p.flpm << 2 : 0) | (p.sre ? 1 : 0), fhi);
    }
  }
}

/** A PASID entry for tests and fuzz targets: unset pointers are 0, FLPM 0 (four-level). */
export interface PasidSpec {
  pasid: number;
  /** 1 first-level, 2 second-level, 3 nested, 4 pass-through. */
  pgtt: number;
  aw: number;
  did: number;
  slptptr?: number;
  flptptr?: number;
  flpm?: number;
  sre?: boolean;
}

export interface ScalableContextSpec {
  bus: number;
  devfn: number;
  pasids: PasidSpec[];
  ridPasid?: number;
  pdts?: number;
}

/** A new scalable-mode root table holding `contexts` (and everything below them); returns its address. */
export function buildScalableRootTable(phys: PhysBuilder, contexts: ScalableContextSpec[]): number {
  const root = phys.alloc();
  writeScalableTables(phys, root, contexts.map((c) => ({
    bus: c.bus, devfn: c.devfn, ridPasid: c.ridPasid ?? 0, pdts: c.pdts ?? 0, paside: false,
    pasids: c.pasids.map((p) => ({ ...p, slptptr: p.slptptr ?? 0, flptptr: p.flptptr ?? 0, flpm: p.flpm ?? 0 })),
  })));
  return root;
}

/** The scalable-mode contexts of unit `ui` of a scenario, with table roots from the generated domains. */
export function scalableContextsOf(s: Scenario, ui: number, domainRoots: Record<string, number>): ScalableContext[] {
  const out: ScalableContext[] = [];
  for (const c of s.contexts.filter((x) => (x.unit ?? 0) === ui)) {
    const b = parseBdf(c.bdf);
    const ridPasid = c.ridPasid ?? 0;
    const list = c.pasids ?? [{ pasid: ridPasid, ...(c.domain !== undefined ? { domain: c.domain } : {}), ...(c.tt === 2 ? { pgtt: 4 } : {}) }];
    const pasids: ScalablePasid[] = list.map((p) => {
      const d = p.domain !== undefined ? s.domains.find((x) => x.id === p.domain) : undefined;
      if (p.domain !== undefined && !d) throw new Error(`scenario ${s.name}: PASID ${p.pasid} of ${c.bdf} names unknown domain ${p.domain}`);
      const first = d?.format === 'first-level';
      const pgtt = p.pgtt ?? (d ? (first ? 1 : 2) : 4);
      const root = d ? domainRoots[d.id] : 0;
      return {
        pasid: p.pasid, pgtt, did: p.did ?? c.did ?? d?.did ?? 0, aw: c.aw ?? d?.aw ?? 2,
        slptptr: first ? 0 : root, flptptr: first ? root : 0, flpm: (d?.flLevels ?? 4) === 5 ? 1 : 0,
        ...(c.fpd ? { fpd: true } : {}),
      };
    });
    out.push({ bus: b.bus, devfn: b.devfn, ridPasid, pdts: c.pdts ?? 0, paside: c.paside ?? true, pasids });
  }
  return out;
}
