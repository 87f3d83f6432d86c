import { MAX_IRT_ENTRIES } from '../model/interrupt-remapping.js';
import type { MappingList } from '../model/mapping-list.js';
import type { Snapshot, Unit } from '../model/types.js';
import { hex, pfnHex } from '../util/hex.js';
import { finding, ran } from './finding.js';
import { byDomain, knownMappingList, roles } from '../model/roles.js';
import { ownerText } from './evidence.js';
import { mappingsReaching, PageIndex, RangeIndex } from './host-ranges.js';
import { checkMeta, defineCheck, type EvidenceValue, type Finding } from './types.js';

const meta = checkMeta({
  id: 'hpa-leak-iommu-structures',
  defaultSeverity: 'critical',
  summary: 'a VM domain maps a page holding I/O MMU structures (root, context, PASID, page tables, queues, IR table, posted-interrupt descriptors)',
  description: `## What it means
A domain used by a device assigned to a VM maps a host page that holds I/O MMU structures: a root
table, a context table, a PASID directory, any domain's page-table page, the invalidation queue
(IQA), the interrupt-remapping table (IRTA) or a posted-interrupt descriptor a posted IRTE names.

## Why it matters
A guest that can write these rewrites its own (or anyone's) translations and escapes the I/O MMU
altogether; read access alone discloses the host's memory layout. Writable → \`critical\`; read-only
→ \`error\`.

## How to fix / where to look
The hypervisor mapped host memory into the VM domain that the I/O MMU driver also allocated:
usually a use-after-free of guest memory or a domain built from the host's 1:1 map. Restart the VM
and report it to the hypervisor's maintainers with this capture.

Structures known from the capture: root tables (RTADDR/debugfs), context tables (root entries),
PASID directories (context entries), page-table pages of every walked domain, IQA from raw
registers, the interrupt-remapping table from IRTA (or, when IRTA was not captured, from debugfs'
\`IR table address\` in \`ir_translation_struct\`, taken as 2^16 entries: 1 MiB, what Linux allocates),
and the page of each posted-interrupt descriptor (PDA) of a present posted IRTE — a guest that
writes one posts interrupts into another vCPU's descriptor, or reads its pending vectors. Host
domains mapping these pages (bhyve's 1:1 host map) are normal and never reported.
Inputs: tables, mappings (registers add the queues and the IR table; the IR table's entries, from
the memory image or debugfs, add the posted-interrupt descriptors).`,
  needs: ['tables', 'mappings'],
  messages: {
    mapsStructures: (d: { owner: string; did: number; writable: boolean; kinds: string[]; first: { [key: string]: EvidenceValue } }) =>
      `The domain of ${d.owner} (DID ${d.did}) maps ${d.writable ? 'writable ' : 'read-only '}host pages holding I/O MMU structures (${d.kinds.join(', ')}; first: ${String(d.first.structure)} at ${String(d.first.hpa)}): the guest can ${d.writable ? 'rewrite translations and escape the I/O MMU' : 'read the host\'s translation structures'}; stop the VM and report it.`,
  },
  example: { sample: 'hpa-leak-iommu-structures' },
});

interface Structure { kind: string; text: string; unit: number }

/**
 * Where the I/O MMU structures lie: the few tables and queues as ranges, every domain's page-table
 * pages (tens of thousands for a big VM, scattered) as single pages. Hits come in host page order.
 */
export class StructureIndex {
  constructor(
    private readonly ranges: RangeIndex<Structure>,
    private readonly tables: PageIndex<Structure>,
  ) {}

  get size(): number {
    return this.ranges.size + this.tables.size;
  }

  /** Which of `mappings` reach a structure (1 where one does). */
  overlapsEach(mappings: MappingList): Uint8Array {
    return mappingsReaching(mappings, this.tables, this.ranges);
  }

  query(startPfn: number, endPfn: number, hit: (s: Structure, fromPfn: number, toPfn: number) => void): void {
    const hits: [Structure, number, number][] = [];
    const add = (s: Structure, from: number, to: number): number => hits.push([s, from, to]);
    this.ranges.query(startPfn, endPfn, add);
    this.tables.query(startPfn, endPfn, add);
    hits.sort((a, b) => a[1] - b[1] || a[2] - b[2]);
    for (const [s, from, to] of hits) hit(s, from, to);
  }
}

/** Address bits of a register holding a table base (51:12). */
const ADDR_BITS = 0x000f_ffff_ffff_f000n;

export function structureIndex(snapshot: Snapshot): StructureIndex {
  const items: { startPfn: number; endPfn: number; label: Structure }[] = [];
  const tables: { label: Structure; pfns: readonly number[] }[] = [];
  const add = (addr: number, pages: number, kind: string, text: string, unit: number): void => {
    const p = Math.floor(addr / 4096);
    items.push({ startPfn: p, endPfn: p + Math.max(1, pages), label: { kind, text, unit } });
  };
  for (const u of snapshot.units) {
    const un = hex(u.registerBase);
    if (u.rootTable !== undefined && u.rootTable !== 0) add(u.rootTable, 1, 'root-table', `root table of unit ${un}`, u.registerBase);
    for (const e of u.rootEntries) {
      if (e.lowerContextTable !== undefined) add(e.lowerContextTable, 1, 'context-table', `context table of bus ${e.bus} (unit ${un})`, u.registerBase);
      if (e.upperContextTable !== undefined) add(e.upperContextTable, 1, 'context-table', `upper context table of bus ${e.bus} (unit ${un})`, u.registerBase);
    }
    for (const c of u.contexts) {
      if (!c.present || c.pasidDirPtr === undefined || c.pasidDirPtr === 0) continue;
      const pages = Math.ceil((2 ** ((c.pdts ?? 0) + 7) * 8) / 4096);
      add(c.pasidDirPtr, pages, 'pasid-directory', `PASID directory of ${c.bdf}`, u.registerBase);
    }
    for (const d of u.domains) {
      if (d.tablePfns.length > 0) tables.push({ label: { kind: 'page-table', text: `page table of DID ${d.did} (root ${hex(d.root)}, unit ${un})`, unit: u.registerBase }, pfns: d.tablePfns });
    }
    const raw = u.registers?.raw ?? {};
    if (raw.IQA !== undefined && (raw.IQA & ADDR_BITS) !== 0n) {
      // Bits 51:12 (bits 63:52 are beyond any host address width): an exact number.
      const base = Number(raw.IQA & ADDR_BITS);
      add(base, 2 ** Number(raw.IQA & 7n), 'invalidation-queue', `invalidation queue of unit ${un}`, u.registerBase);
    }
    addIrStructures(u, add);
  }
  return new StructureIndex(new RangeIndex(items), new PageIndex(tables));
}

/**
 * The unit's interrupt remapping table — at IRTA, or where debugfs' `IR table address` says when
 * IRTA was not captured (model/interrupt-remapping.ts) — and the posted-interrupt descriptors its
 * posted IRTEs name (64 bytes each, in one page). Without IRTA.S the table's size is unknown: it
 * is taken as the largest, 2^16 entries (1 MiB), which is also what Linux allocates.
 */
function addIrStructures(u: Unit, add: (addr: number, pages: number, kind: string, text: string, unit: number) => void): void {
  const ir = u.interruptRemapping;
  const un = hex(u.registerBase);
  const raw = u.registers?.raw.IRTA;
  const table = ir?.table ?? (raw !== undefined && (raw & ADDR_BITS) !== 0n ? Number(raw & ADDR_BITS) : undefined);
  const entries = ir?.entryCount ?? (raw !== undefined ? 2 ** (Number(raw & 0xfn) + 1) : MAX_IRT_ENTRIES);
  if (table !== undefined && table !== 0) add(table, Math.ceil((entries * 16) / 4096), 'interrupt-remapping-table', `interrupt-remapping table of unit ${un}`, u.registerBase);
  const seen = new Set<number>();
  for (const e of ir?.irtes ?? []) {
    if (e.irte.mode !== 'posted') continue;
    // PDA bits 63:6: beyond 2^52 no host address; a descriptor page is added once.
    if (e.irte.PDA >= 1n << 52n) continue;
    const pda = Number(e.irte.PDA);
    if (seen.has(Math.floor(pda / 4096))) continue;
    seen.add(Math.floor(pda / 4096));
    add(pda, 1, 'posted-interrupt-descriptor', `posted-interrupt descriptor ${hex(pda)} (IRTE ${e.index}, unit ${un})`, u.registerBase);
  }
}

export const hpaLeakIommuStructures = defineCheck({
  meta,
  run(snapshot) {
    const r = roles(snapshot);
    const vmDomains = r.vmDomains().filter((d) => d.domain.mappingsKnown).sort(byDomain);
    if (vmDomains.length === 0) return ran([]);
    const index = structureIndex(snapshot);
    if (index.size === 0) return ran([]);
    const out: Finding[] = [];
    for (const info of vmDomains) {
      const hits: { [key: string]: EvidenceValue }[] = [];
      const kinds = new Set<string>();
      let pages = 0;
      let writable = false;
      const ms = knownMappingList(info.domain);
      // Which mappings reach a structure, found in one merge; then the evidence, in IOVA order.
      // (A CLI run executes this once, mostly before the JIT optimizes it: no work per mapping
      // beyond a few loops over typed arrays; the hits are found by a native search of the flags.)
      const reach = index.overlapsEach(ms);
      for (let i = reach.indexOf(1); i >= 0; i = reach.indexOf(1, i + 1)) {
        const m = ms.at(i);
        index.query(m.hpaPfn, m.hpaPfn + m.pages, (s, from, to) => {
          pages += to - from;
          kinds.add(s.kind);
          if (m.write) writable = true;
          if (hits.length < 16) hits.push({ structure: s.text, kind: s.kind, hpa: pfnHex(from), iova: pfnHex(m.iovaPfn + (from - m.hpaPfn)), size: hex((to - from) * 4096), write: m.write });
        });
      }
      if (hits.length === 0) continue;
      out.push(finding(meta, {
        messageId: 'mapsStructures', data: { owner: ownerText(info), did: info.domain.did, writable, kinds: [...kinds].sort(), first: hits[0] },
        severity: writable ? 'critical' : 'error',
        severityReason: 'the structures are mapped read-only',
        unit: info.unit, bdf: [...info.assignedUsers].sort()[0], did: info.domain.did, source: info.domain.source,
        evidence: { root: hex(info.domain.root), pages, hits, devices: [...info.assignedUsers].sort(), vms: [...info.vms].sort() },
      }));
    }
    return ran(out);
  },
});
