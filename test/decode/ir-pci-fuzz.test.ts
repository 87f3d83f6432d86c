/**
 * Hostile input for the interrupt-remapping and PCI-config layers: random and mutated bytes/text
 * never make them throw (other than the documented RangeErrors) or run unbounded. The targets
 * join test/fuzz/targets.ts when these modules are wired into the capture readers.
 */
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { remapInterrupt } from '../../src/decode/ir-remap.js';
import { decodeIrte } from '../../src/decode/irte.js';
import { decodeMsi } from '../../src/decode/msi.js';
import { decodePciConfig } from '../../src/decode/pci-config.js';
import { parseIrTranslation } from '../../src/text/ir-translation.js';
import { parseLspciHexDump, parsePciconfDump } from '../../src/text/pci-config-dump.js';

const RUNS = 200;
const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
const FIXTURES = path.resolve(import.meta.dirname, '../fixtures/pci');
const ROOT_PORT = readFileSync(path.join(FIXTURES, 'qemu-q35-vtd/0000:00:02.0/config'));
const LSPCI = readFileSync(path.join(FIXTURES, 'host-virtio/lspci-xxxx.txt'), 'utf8');
const IRT = readFileSync(path.join(FIXTURES, 'qemu-q35-vtd/ir_translation_struct'), 'utf8');

/** A real input with a few bytes overwritten. */
function mutated(base: Uint8Array): fc.Arbitrary<Uint8Array> {
  return fc.array(fc.tuple(fc.nat(base.length - 1), fc.nat(255)), { maxLength: 24 }).map((edits) => {
    const b = Uint8Array.from(base);
    for (const [i, v] of edits) b[i] = v;
    return b;
  });
}
const mutatedText = (base: string) => mutated(new TextEncoder().encode(base)).map((b) => new TextDecoder().decode(b));

describe('IR decoders never throw on any 128 bits, any MSI, any table', () => {
  it('decodeIrte + remapInterrupt', () => {
    fc.assert(fc.property(u64, u64, fc.boolean(), fc.nat(0xfffff), fc.nat(0xffffffff), fc.array(fc.tuple(u64, u64), { maxLength: 8 }), fc.nat(0xffff),
      (lo, hi, eime, addrLow, data, table, requester) => {
        const e = decodeIrte(lo, hi, { eime });
        expect(e.reserved[0] & ~lo).toBe(0n);
        const msi = decodeMsi(0xfee00000 + addrLow, data);
        const r = remapInterrupt(msi, (i) => (table[i] ? { lo: table[i][0], hi: table[i][1] } : undefined), { enabled: true, eime, cfis: (data & 1) === 1, entries: table.length || undefined, postedInterrupts: eime }, requester);
        expect(['remapped', 'posted', 'not-remapped', 'fault', 'unknown']).toContain(r.outcome);
      }), { numRuns: RUNS });
  });
});

describe('decodePciConfig: any bytes, bounded', () => {
  it('random spaces of 64 … 4096 bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 64, maxLength: 4096 }), (b) => {
      const c = decodePciConfig(b);
      expect(c.capabilities.length).toBeLessThanOrEqual(48);
      expect(c.extendedCapabilities.length).toBeLessThanOrEqual(960);
    }), { numRuns: RUNS });
  });
  it('a real root port with bytes overwritten', () => {
    fc.assert(fc.property(mutated(ROOT_PORT), (b) => {
      decodePciConfig(b);
    }), { numRuns: RUNS });
  });
});

describe('text readers: mutated real files and random text return warnings, never throw', () => {
  it('ir_translation_struct', () => {
    fc.assert(fc.property(fc.oneof(mutatedText(IRT), fc.string({ maxLength: 2000 })), (t) => {
      parseIrTranslation(t, 'f');
    }), { numRuns: RUNS });
  });
  it('lspci -xxxx', () => {
    fc.assert(fc.property(fc.oneof(mutatedText(LSPCI), fc.string({ maxLength: 2000 })), (t) => {
      for (const f of parseLspciHexDump(t, 'f').functions) decodePciConfig(f.bytes);
    }), { numRuns: 100 });
  });
  it('pciconf -r', () => {
    const base = '# pciconf -r pci0:0:2:0 0:0xff\n' + Array.from({ length: 16 }, (_, i) => '000c1b36 00100507 06040000 0001000' + (i % 10)).join('\n');
    fc.assert(fc.property(fc.oneof(mutatedText(base), fc.string({ maxLength: 2000 })), (t) => {
      for (const f of parsePciconfDump(t, 'f').functions) decodePciConfig(f.bytes);
    }), { numRuns: RUNS });
  });
});
