/**
 * A scenario unit's interrupt remapping (samples/scenarios/*.json `units[].ir`): the IRTA value
 * registers.json gets and the IR table written into the memory image. Layouts: VT-d spec
 * chapter 9 and 10.4.29 (IRTA: bits 63:12 table address, 11 EIME, 3:0 S — 2^(S+1) entries), as
 * docs/interrupt-remapping.md gives them. Tests and the sample generator only.
 */
import { parseBdf, sourceId } from '../util/bdf.js';
import { postedIrte, remappedIrte } from './ir-encode.js';
import type { PhysBuilder } from './phys.js';
import { parseAddr, type ScenarioIrte, type ScenarioUnit } from './scenario.js';

/** Where the table goes by default: 62 MiB into the unit's 64 MiB table area (never given to VMs). */
const DEFAULT_OFFSET = 62 << 20;

function tableOf(u: ScenarioUnit): number {
  return u.ir?.table !== undefined ? parseAddr(u.ir.table) : parseAddr(u.tableBase) + DEFAULT_OFFSET;
}

/** The IRTA register of a unit with `ir`, else undefined. */
export function irtaOf(u: ScenarioUnit): bigint | undefined {
  if (u.ir === undefined) return undefined;
  const s = u.ir.size ?? 7;
  if (s < 0 || s > 15) throw new Error(`unit ${u.base}: ir.size ${s} is not 0-15`);
  return BigInt(tableOf(u)) | (u.ir.eime ? 1n << 11n : 0n) | BigInt(s);
}

function irteOf(e: ScenarioIrte): [bigint, bigint] {
  const sid = e.sid !== undefined ? Number(BigInt(e.sid)) : e.bdf !== undefined ? sourceId(parseBdf(e.bdf)) : 0;
  const spec = { sid, svt: e.svt, sq: e.sq, vector: e.vector };
  if (e.pda !== undefined) return postedIrte({ ...spec, pda: BigInt(e.pda) });
  return remappedIrte({ ...spec, ...(e.dst !== undefined ? { dst: Number(BigInt(e.dst)) } : {}) });
}

/** Write the unit's IR table (every page of it, zero where no entry is given) into host memory. */
export function writeIrTable(phys: PhysBuilder, u: ScenarioUnit): void {
  if (u.ir === undefined) return;
  const base = tableOf(u);
  const entries = 2 ** ((u.ir.size ?? 7) + 1);
  for (let off = 0; off < entries * 16; off += 4096) phys.page(base + off);
  for (const e of u.ir.entries) {
    if (e.index >= entries) throw new Error(`unit ${u.base}: IRTE ${e.index} is beyond the table's ${entries} entries`);
    const [lo, hi] = irteOf(e);
    phys.writeQword(base + e.index * 16, lo);
    phys.writeQword(base + e.index * 16 + 8, hi);
  }
}
