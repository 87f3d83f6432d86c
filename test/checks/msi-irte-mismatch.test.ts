import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCapture } from '../../src/capture/load.js';
import { msiIrteMismatch } from '../../src/checks/msi-irte-mismatch.js';
import { decodeIrte } from '../../src/decode/irte.js';
import { decodeMsi } from '../../src/decode/msi.js';
import type { Snapshot } from '../../src/model/types.js';
import { remappableMsi, remappedIrte } from '../../src/synth/ir-encode.js';
import { resultOf } from './check-tester.js';

const SAMPLE = path.resolve(import.meta.dirname, '../../samples/msi-irte-mismatch');
const NIC = '0000:01:00.0';

/** The sample with the e1000e's MSI pointed at `address`/`data` (as its driver would program it). */
function withMsi(address: number, data = 0): Snapshot {
  const s = loadCapture(SAMPLE);
  const msi = s.devices.find((d) => d.bdf === NIC)?.config?.msi;
  if (!msi) throw new Error('sample lost its MSI capability');
  msi.address = BigInt(address);
  msi.data = data;
  msi.message = decodeMsi(address, data);
  return s;
}

describe('msi-irte-mismatch', () => {
  it('fires on the sample: the MSI names IRTE 24, whose source-id is 02:00.0 (fault 0x26)', () => {
    const r = resultOf(msiIrteMismatch, loadCapture(SAMPLE));
    expect(r.findings.map((f) => [f.bdf, f.messageId, f.evidence.fault])).toEqual([[NIC, 'irteFault', '0x26']]);
    // 0xfee00000 + (24 << 5) + 0x10: handle 24 in bits 19:5, remappable format bit 4.
    expect(r.findings[0].evidence.msiAddress).toBe('0xfee00310');
  });
  it('an entry that is not present: fault 0x22', () => {
    const r = resultOf(msiIrteMismatch, withMsi(remappableMsi(30).address));
    expect(r.findings.map((f) => [f.bdf, f.evidence.fault])).toEqual([[NIC, '0x22']]);
  });
  it('is silent when the entry is the device\'s own', () => {
    const s = withMsi(remappableMsi(40).address);
    const ir = s.units[0].interruptRemapping;
    if (!ir) throw new Error('no IR model');
    const [lo, hi] = remappedIrte({ sid: 0x0100, vector: 0x40 }); // 01:00.0 = bus 1, devfn 0
    ir.irtes.push({ index: 40, lo, hi, irte: decodeIrte(lo, hi), source: { part: 'test' } });
    expect(resultOf(msiIrteMismatch, s).findings).toEqual([]);
  });
  it('compatibility format while IR is on and CFIS clear: blocked (message says so)', () => {
    const f = resultOf(msiIrteMismatch, withMsi(0xfee01000, 0x30)).findings;
    expect(f.map((x) => [x.messageId, /blocks it \(fault 0x25\)/.test(x.message)])).toEqual([['compatibilityWithIr', true]]);
  });
  it('silent with IR off (ir-off-with-assigned speaks for that)', () => {
    const s = loadCapture(SAMPLE);
    const ir = s.units[0].interruptRemapping;
    if (ir) ir.enabled = false;
    expect(resultOf(msiIrteMismatch, s).findings).toEqual([]);
  });
});

describe('msi-irte-mismatch with multiple MSI vectors', () => {
  /** Remappable format, SHV set, handle 40 (VT-d 5.1.2.2: address 19:5 handle, bit 4 format, bit 3 SHV). */
  const ADDRESS = (0xfee0_0000 | (40 << 5) | 0x10 | 0x8) >>> 0;
  function fourVectors(present: number[]): Snapshot {
    const s = withMsi(ADDRESS, 0);
    const msi = s.devices.find((d) => d.bdf === NIC)?.config?.msi;
    const ir = s.units[0].interruptRemapping;
    if (!msi || !ir) throw new Error('sample lost its MSI or IR model');
    msi.multipleMessageEnabled = 4; // MME = 2: the function writes vector numbers 0-3 into data bits 1:0
    for (const index of present) {
      const [lo, hi] = remappedIrte({ sid: 0x0100, vector: 0x40 + index });
      ir.irtes.push({ index, lo, hi, irte: decodeIrte(lo, hi), source: { part: 'test' } });
    }
    return s;
  }
  it('vector i names IRTE handle + i: the one entry of the four that is missing is found', () => {
    const r = resultOf(msiIrteMismatch, fourVectors([40, 41, 42]));
    expect(r.findings.map((f) => [f.evidence.fault, f.evidence.vector, /IRTE 43 /.test(f.message)])).toEqual([['0x22', '3', true]]);
  });
  it('silent when all four entries are the device\'s', () => {
    expect(resultOf(msiIrteMismatch, fourVectors([40, 41, 42, 43])).findings).toEqual([]);
  });
});
