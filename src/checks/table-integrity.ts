import type { Source, Unit, UnitTableProblem } from '../model/types.js';
import { sagawAllows } from '../decode/registers.js';
import { hex } from '../util/hex.js';
import { finding, ran } from './finding.js';
import type { FindingInit } from './finding.js';
import { rawHex } from './evidence.js';
import { checkMeta, defineCheck, type EvidenceValue, type Finding } from './types.js';

const STRUCTURE_NAMES: Record<UnitTableProblem['structure'], string> = {
  root: 'root entry',
  context: 'context entry',
  'pasid-dir': 'PASID directory entry',
  pasid: 'PASID table entry',
  'page-table': 'page-table entry',
};

/** Table problems reported one by one per unit, by default, before the rest is summarised in one finding. */
const MAX_PER_UNIT = 100;

const meta = checkMeta({
  id: 'table-integrity',
  defaultSeverity: 'error',
  summary: 'reserved bits set, pointers outside the image or past the address width, cycles, AW not in SAGAW, DID out of range, superpage not in SLLPS',
  description: `## What it means
An entry of the root, context, PASID or page tables (or a register) holds a value the hardware
refuses or that cannot be followed: reserved bits set, a pointer past the host address width or
outside the captured image, a cycle or a shared table page, an AW not in CAP.SAGAW, a DID at or
above 2^(4+2·CAP.ND), a superpage not in CAP.SLLPS, TT = 01b without ECAP.DT, TT = 10b without
ECAP.PT, TT = 11b (reserved), a reserved or unsupported PGTT, GSTS.TES = 1 with RTPS = 0, or a
reserved RTADDR translation-table mode.

## Why it matters
The unit faults every request through such an entry (the device stops working), or the tables were
corrupted — by a driver bug, or by a device DMAing into them (see \`hpa-leak-iommu-structures\`).
Entries outside the image mean the capture is incomplete: findings that depend on them are partial.

## How to fix / where to look
The evidence names the entry at fault: its physical address (\`entryAddr\`), every qword
(\`entry\`, lowest first; \`raw\` is qword 0), the bits at fault in each qword (\`faultBits\`:
reserved bits that are set, address bits at or above the host address width, or the field whose
value is refused) and, when the problem is where the entry points, its \`target\`. A page-table
root that cannot be walked (missing from the image, a reserved AW, levels that disagree with
another entry using the same table — kind \`levels-mismatch\`) is reported at the context or PASID
entry that points at it. See docs/vtd-formats.md for the layouts. For "not in the image" take a fuller memory image. More than ${MAX_PER_UNIT} problems in one unit (option
\`maxPerUnit\`) are summarised in one extra finding. Inputs: tables (register-based rules need registers; without them those are
skipped).`,
  needs: ['tables'],
  messages: {
    tableProblem: (d: { message: string; unit: number; structure: UnitTableProblem['structure']; entryAddr: number }) =>
      `${d.message} (unit ${hex(d.unit)}, ${STRUCTURE_NAMES[d.structure]} at ${hex(d.entryAddr)}).`,
    reservedAw: (d: { what: string; bdf: string; aw: number; unit: string }) => `${d.what} of ${d.bdf} has reserved AW ${d.aw} (unit ${d.unit}): the unit faults its DMA; rewrite the entry.`,
    awNotInSagaw: (d: { what: string; bdf: string; aw: number; unit: string; sagaw: number }) =>
      `${d.what} of ${d.bdf} uses AW ${d.aw} (${d.aw + 2}-level tables) but unit ${d.unit} supports only SAGAW ${hex(d.sagaw)}: the unit faults its DMA.`,
    didOutOfRange: (d: { bdf: string; did: number; domains: number; unit: string; nd: number }) =>
      `${d.bdf} uses DID ${d.did}, at or above the ${d.domains} domains unit ${d.unit} supports (CAP.ND = ${d.nd}): the entry is invalid.`,
    reservedTt: (d: { bdf: string; unit: string }) => `Context entry of ${d.bdf} (unit ${d.unit}) has reserved TT = 11b: the unit faults its DMA.`,
    deviceTlbUnsupported: (d: { bdf: string; unit: string }) => `Context entry of ${d.bdf} has TT = 01b (device-TLB) but unit ${d.unit} lacks ECAP.DT: the unit faults its DMA.`,
    passThroughUnsupported: (d: { bdf: string; unit: string }) => `Context entry of ${d.bdf} has TT = 10b (pass-through) but unit ${d.unit} lacks ECAP.PT: the unit faults its DMA.`,
    reservedPgtt: (d: { pasid: number; bdf: string; unit: string; pgtt: number }) =>
      `PASID ${d.pasid} entry of ${d.bdf} (unit ${d.unit}) has reserved PGTT ${d.pgtt}: the unit faults requests with that PASID.`,
    pgttUnsupported: (d: { pasid: number; bdf: string; mode: string; pgtt: number; unit: string; cap: string }) =>
      `PASID ${d.pasid} entry of ${d.bdf} is ${d.mode} (PGTT ${d.pgtt}) but unit ${d.unit} lacks ECAP.${d.cap}: the unit faults requests with that PASID.`,
    noRootTableLatched: (d: { unit: string }) => `Unit ${d.unit} has translation on (GSTS.TES = 1) but no root table latched (RTPS = 0): every DMA through it faults.`,
    reservedTtm: (d: { unit: string }) => `Unit ${d.unit} has RTADDR.TTM = 10b, reserved in VT-d 3.x (VT-d 2.x extended root table): current hardware faults every DMA.`,
    scalableUnsupported: (d: { unit: string }) => `Unit ${d.unit} has RTADDR.TTM = 01b (scalable mode) but lacks ECAP.SMTS: every DMA through it faults.`,
    abortDmaUnsupported: (d: { unit: string }) => `Unit ${d.unit} has RTADDR.TTM = 11b (abort DMA) but lacks ECAP.ADMS.`,
    reservedRtaddrBits: (d: { unit: string; reserved: number }) => `Unit ${d.unit} has reserved RTADDR bits 9:0 set (${hex(d.reserved)}): the register value is corrupt or mis-decoded.`,
    moreProblems: (d: { unit: number; more: number; kinds: string[] }) =>
      `Unit ${hex(d.unit)} has ${d.more} more table problems (${d.kinds.join(', ')}) not listed one by one: the tables are badly damaged; run \`dmarsift decode\` for all of them.`,
  },
  options: {
    maxPerUnit: {
      type: 'integer', default: MAX_PER_UNIT, minimum: 0,
      description: 'Problems of one unit reported one by one; the rest are summarised in one finding (their count and kinds).',
    },
  },
  example: { sample: 'table-integrity' },
});

/**
 * Evidence naming an entry and the field at fault: its address (when read from memory), every
 * qword, and per qword the bits of that field (`mask` at qword `qword`).
 */
function entryEvidence(addr: number | undefined, raw: bigint[], qword: number, mask: bigint): { [key: string]: EvidenceValue | undefined } {
  return {
    entryAddr: addr !== undefined ? hex(addr) : undefined,
    raw: rawHex(raw),
    entry: raw.map((q) => hex(q)),
    faultBits: raw.map((q, i) => hex(i === qword ? q & mask : 0n)),
  };
}

// Fields of a legacy context entry and of a PASID table entry (qword, mask).
const CTX_TT: [number, bigint] = [0, 0xcn];
const CTX_AW: [number, bigint] = [1, 0x7n];
const CTX_DID: [number, bigint] = [1, 0xffff00n];
const PASID_AW: [number, bigint] = [0, 0x1cn];
const PASID_PGTT: [number, bigint] = [0, 0x1c0n];
const PASID_DID: [number, bigint] = [1, 0xffffn];

type Init = FindingInit<typeof meta.messages>;

function capChecks(unit: Unit, push: (f: Init) => void): void {
  const cap = unit.registers?.CAP;
  const ecap = unit.registers?.ECAP;
  const u = hex(unit.registerBase);
  // Once per unit, not once per context: hostile tables have tens of thousands of both.
  const withAwProblem = new Set(unit.tableProblems.filter((p) => p.bdf !== undefined && /\bAW\b/.test(p.message)).map((p) => p.bdf));
  const awProblem = (bdf: string): boolean => withAwProblem.has(bdf);
  type Entry = { addr?: number; raw: bigint[]; source: Source | undefined };
  const checkAw = (bdf: string, aw: number, did: number, e: Entry, field: [number, bigint], what: string): void => {
    if (aw < 0) return; // unknown (dmardump text)
    if (aw >= 5) {
      if (!awProblem(bdf)) push({ messageId: 'reservedAw', data: { what, bdf, aw, unit: u }, unit, bdf, did, source: e.source, evidence: { aw, ...entryEvidence(e.addr, e.raw, ...field) } });
      return;
    }
    if (cap !== undefined && !sagawAllows(cap, aw)) {
      push({ messageId: 'awNotInSagaw', data: { what, bdf, aw, unit: u, sagaw: cap.SAGAW }, unit, bdf, did, source: e.source, evidence: { aw, sagaw: hex(cap.SAGAW), ...entryEvidence(e.addr, e.raw, ...field) } });
    }
  };
  const checkDid = (bdf: string, did: number, e: Entry, field: [number, bigint]): void => {
    if (cap !== undefined && did >= cap.domains) {
      push({ messageId: 'didOutOfRange', data: { bdf, did, domains: cap.domains, unit: u, nd: cap.ND }, unit, bdf, did, source: e.source, evidence: { nd: cap.ND, domains: cap.domains, ...entryEvidence(e.addr, e.raw, ...field) } });
    }
  };
  for (const c of unit.contexts) {
    if (!c.present) continue;
    if (c.pasids === undefined) {
      const tt = c.tt;
      const ttEv = entryEvidence(c.addr, c.raw, ...CTX_TT);
      if (tt === 3) push({ messageId: 'reservedTt', data: { bdf: c.bdf, unit: u }, unit, bdf: c.bdf, did: c.did, source: c.source, evidence: { tt, ...ttEv } });
      if (tt === 1 && ecap !== undefined && !ecap.DT) push({ messageId: 'deviceTlbUnsupported', data: { bdf: c.bdf, unit: u }, unit, bdf: c.bdf, did: c.did, source: c.source, evidence: { tt, ecap: hex(ecap.raw), ...ttEv } });
      if (tt === 2 && ecap !== undefined && !ecap.PT) push({ messageId: 'passThroughUnsupported', data: { bdf: c.bdf, unit: u }, unit, bdf: c.bdf, did: c.did, source: c.source, evidence: { tt, ecap: hex(ecap.raw), ...ttEv } });
      if (tt === 0 || tt === 1) checkAw(c.bdf, c.aw, c.did, c, CTX_AW, 'Context entry');
      checkDid(c.bdf, c.did, c, CTX_DID);
      continue;
    }
    for (const p of c.pasids) {
      if (!p.present) continue;
      const base = { unit, bdf: c.bdf, did: p.did, source: p.source };
      const ev = { pasid: p.pasid, pgtt: p.pgtt, ...entryEvidence(p.addr, p.raw, ...PASID_PGTT) };
      if (p.pgtt === 0 || p.pgtt > 4) push({ ...base, messageId: 'reservedPgtt', data: { pasid: p.pasid, bdf: c.bdf, unit: u, pgtt: p.pgtt }, evidence: ev });
      const need: Record<number, ['FLTS' | 'SLTS' | 'NEST' | 'PT', string]> = { 1: ['FLTS', 'first-level'], 2: ['SLTS', 'second-level'], 3: ['NEST', 'nested'], 4: ['PT', 'pass-through'] };
      const n = need[p.pgtt];
      if (n !== undefined && ecap !== undefined && !ecap[n[0]]) push({ ...base, messageId: 'pgttUnsupported', data: { pasid: p.pasid, bdf: c.bdf, mode: n[1], pgtt: p.pgtt, unit: u, cap: n[0] }, evidence: { ...ev, ecap: hex(ecap.raw) } });
      if (p.pgtt === 2 || p.pgtt === 3) checkAw(c.bdf, p.aw, p.did, p, PASID_AW, `PASID ${p.pasid} entry`);
      checkDid(c.bdf, p.did, p, PASID_DID);
    }
  }
  const gsts = unit.registers?.GSTS;
  if (unit.translationEnabled === true && unit.rootTablePointerSet === false) {
    push({ messageId: 'noRootTableLatched', data: { unit: u }, unit, evidence: { gsts: gsts !== undefined ? hex(gsts.raw) : undefined } });
  }
  const rt = unit.registers?.RTADDR;
  if (rt !== undefined) {
    const ev = { rtaddr: hex(rt.raw), ttm: rt.TTM };
    if (rt.TTM === 2) push({ messageId: 'reservedTtm', data: { unit: u }, unit, evidence: ev });
    if (rt.TTM === 1 && ecap !== undefined && !ecap.SMTS) push({ messageId: 'scalableUnsupported', data: { unit: u }, unit, evidence: ev });
    if (rt.TTM === 3 && ecap !== undefined && !ecap.ADMS) push({ messageId: 'abortDmaUnsupported', data: { unit: u }, unit, evidence: ev });
    if (rt.reserved !== 0) push({ messageId: 'reservedRtaddrBits', data: { unit: u, reserved: rt.reserved }, unit, evidence: ev });
  }
}

export const tableIntegrity = defineCheck({
  meta,
  run(snapshot, options) {
    const out: Finding[] = [];
    for (const unit of snapshot.units) {
      const mine: Init[] = [];
      for (const p of unit.tableProblems) {
        mine.push({
          messageId: 'tableProblem', data: { message: p.message, unit: unit.registerBase, structure: p.structure, entryAddr: p.entryAddr },
          unit, bdf: p.bdf, did: p.did, source: p.source,
          // The entry at fault: its address, every qword, and the bits at fault in each.
          evidence: {
            structure: p.structure, kind: p.kind, level: p.level, entryAddr: hex(p.entryAddr), raw: hex(p.raw),
            entry: p.entry.map((q) => hex(q)), faultBits: p.faultBits.map((q) => hex(q)),
            target: p.target !== undefined ? hex(p.target) : undefined,
          },
        });
      }
      capChecks(unit, (f) => mine.push(f));
      for (const f of mine.slice(0, options.maxPerUnit)) out.push(finding(meta, f));
      if (mine.length > options.maxPerUnit) {
        const rest = mine.slice(options.maxPerUnit);
        const kinds = [...new Set(rest.map((f) => String(f.evidence?.kind ?? 'capability')))].sort();
        out.push(finding(meta, {
          messageId: 'moreProblems', data: { unit: unit.registerBase, more: rest.length, kinds },
          unit, evidence: { more: rest.length, kinds },
        }));
      }
    }
    return ran(out);
  },
});
