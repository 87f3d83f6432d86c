/**
 * `translate --msi`: what the remapping unit covering a device does with one MSI the device
 * writes (VT-d spec §5.1.4; the decision itself is src/decode/ir-remap.ts `remapInterrupt`). The
 * IRTE comes from the memory image at the unit's table address when the image holds that entry,
 * else from the model (debugfs' rows); an entry neither holds is unknown, and so is the answer:
 * that, and a unit whose IR state the capture does not give, is an input error (exit 2), never a
 * guess.
 */
import { remapInterrupt, type IrteLookup, type IrUnitState, type RemapResult } from '../decode/ir-remap.js';
import { IRTE_BYTES } from '../decode/irte.js';
import type { DecodedMsi } from '../decode/msi.js';
import { InputError } from '../errors.js';
import type { PhysicalMemory } from '../image/types.js';
import { sourceId, type Bdf } from '../util/bdf.js';
import { hex } from '../util/hex.js';
import { irteState, type InterruptRemapping } from './interrupt-remapping.js';
import type { Source, Unit } from './types.js';

export interface MsiTranslateInput {
  unit: Unit;
  bdf: Bdf;
  msi: DecodedMsi;
  /** The capture's memory image and its part name, when it has one. */
  memory?: { mem: PhysicalMemory; part: string };
}

/** The IRTE the request named, as read. */
export interface LookedUpIrte {
  index: number;
  lo: bigint;
  hi: bigint;
  /** Physical address, when the table address is known. */
  addr?: number;
  source?: Source;
}

export interface MsiTranslation {
  requester: number;
  result: RemapResult;
  irte?: LookedUpIrte;
  /** IRTA.EIME was not captured: the APIC id of a remapped delivery is unknown. */
  apicIdUnknown: boolean;
}

function unitLabel(u: Unit): string {
  return u.baseUnknown ? `unit ${u.name ?? '(base unknown)'}` : `unit ${hex(u.registerBase)}`;
}

/** The unit state remapInterrupt needs, from what the capture gives; unknown facts stay unknown. */
function unitState(ir: InterruptRemapping, eimeForDecode: boolean): IrUnitState {
  return {
    enabled: ir.enabled === true,
    eime: eimeForDecode,
    cfis: ir.compatibilityFormat === true,
    ...(ir.entryCount !== undefined ? { entries: ir.entryCount } : {}),
    ...(ir.postedSupported !== undefined ? { postedInterrupts: ir.postedSupported } : {}),
  };
}

/** Entry `index`: from the image when it holds it, else the model's; undefined when unknown. */
function lookupIn(ir: InterruptRemapping, memory: MsiTranslateInput['memory'], seen: (e: LookedUpIrte) => void): IrteLookup {
  return (index) => {
    const addr = ir.table !== undefined ? ir.table + index * IRTE_BYTES : undefined;
    if (memory !== undefined && addr !== undefined) {
      const b = memory.mem.read(addr, IRTE_BYTES);
      if (b !== undefined) {
        const dv = new DataView(b.buffer, b.byteOffset, IRTE_BYTES);
        const offset = memory.mem.fileOffsetOf(addr);
        const e = { index, lo: dv.getBigUint64(0, true), hi: dv.getBigUint64(8, true), addr, source: offset === undefined ? { part: memory.part } : { part: memory.part, offset } };
        seen(e);
        return e;
      }
    }
    const st = irteState(ir, index);
    if (st.state === 'present') {
      const e = { index, lo: st.entry.lo, hi: st.entry.hi, ...(addr !== undefined ? { addr } : {}), source: st.entry.source };
      seen(e);
      return e;
    }
    if (st.state === 'absent') {
      // Known not present: debugfs lists every present entry, or the image page was read.
      const e = { index, lo: 0n, hi: 0n, ...(addr !== undefined ? { addr } : {}) };
      seen(e);
      return e;
    }
    return undefined;
  };
}

export function translateMsi(input: MsiTranslateInput): MsiTranslation {
  const { unit, msi } = input;
  const requester = sourceId(input.bdf);
  const ir = unit.interruptRemapping;
  const label = unitLabel(unit);
  if (ir === undefined || (ir.enabled === undefined && ir.supported !== false)) {
    throw new InputError(`${label}: whether interrupt remapping is on is unknown (no GSTS register and no ir_translation_struct for it in the capture): add iommu_regset`);
  }
  if (ir.enabled === true && msi.format === 'compatibility') {
    const blocked = ir.x2apic === true || ir.compatibilityFormat === false;
    const passes = ir.x2apic === false && ir.compatibilityFormat === true;
    if (!blocked && !passes) {
      throw new InputError(`${label}: whether compatibility-format interrupts pass is unknown (needs GSTS.CFIS and IRTA.EIME; the capture has ${ir.compatibilityFormat === undefined ? 'no GSTS' : 'no IRTA'})`);
    }
  }
  // Without IRTA the mode is unknown: a remappable request's entry is decoded without xAPIC's
  // reserved DST bits, and the APIC id is left unknown; a compatibility-format one was settled above.
  const apicIdUnknown = ir.x2apic === undefined;
  const eime = msi.format === 'compatibility' ? ir.x2apic === true : ir.x2apic !== false;
  let irte: LookedUpIrte | undefined;
  const result = remapInterrupt(msi, lookupIn(ir, input.memory, (e) => (irte = e)), unitState(ir, eime), requester);
  if (result.outcome === 'unknown') {
    const where = ir.table !== undefined ? ` (table ${hex(ir.table)}, entry at ${hex(ir.table + result.index * IRTE_BYTES)})` : '';
    throw new InputError(`${label}: IRTE ${result.index}${where} is not in the capture: neither the memory image nor ir_translation_struct holds it, so what the unit does with this interrupt is unknown`, input.memory !== undefined ? { file: input.memory.part } : {});
  }
  return { requester, result, ...(irte !== undefined ? { irte } : {}), apicIdUnknown };
}
