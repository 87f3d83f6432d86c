import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCapture } from '../../src/capture/load.js';
import { invalidationQueueError } from '../../src/checks/invalidation-queue-error.js';
import { buildUnitRegisters } from '../../src/decode/registers.js';
import { readQueueErrorWindow } from '../../src/model/invalidation-queue.js';
import type { Snapshot } from '../../src/model/types.js';
import { PhysBuilder } from '../../src/synth/phys.js';
import { memoryOf } from '../helpers/memory.js';
import { resultOf } from './check-tester.js';

const SAMPLE = path.resolve(import.meta.dirname, '../../samples/invalidation-queue-error');

/** The sample with its unit's registers replaced (raw values as the spec lays them out). */
function withRegisters(extra: Record<string, bigint>): Snapshot {
  const s = loadCapture(SAMPLE);
  const u = s.units[0];
  if (!u.registers) throw new Error('sample lost its registers');
  u.registers = buildUnitRegisters(u.registerBase, { ...u.registers.raw, ...extra });
  return s;
}

describe('invalidation-queue-error', () => {
  it('IQE: names IQH (0x640 = descriptor 100 of 128-bit descriptors) and IQERCD.IQEI 4', () => {
    const f = resultOf(invalidationQueueError, loadCapture(SAMPLE)).findings;
    expect(f.map((x) => [x.messageId, x.severity, x.evidence.descriptorIndex])).toEqual([['iqe', 'error', 100]]);
    expect(f[0].message).toMatch(/FSTS\.IQE: reserved field set in the descriptor\) at IQH 0x640 \(descriptor 100/);
  });
  it('ITE and ICE name the device from IQERCD (ITESID bits 47:32, ICESID bits 63:48)', () => {
    // FSTS bits 5 (ICE) and 6 (ITE); ITESID 0x0100 = 01:00.0, ICESID 0x0208 = 02:01.0.
    const f = resultOf(invalidationQueueError, withRegisters({ FSTS: 0x60n, IQERCD: (0x0208n << 48n) | (0x0100n << 32n) })).findings;
    expect(f.map((x) => [x.messageId, x.bdf])).toEqual([['ite', '0000:01:00.0'], ['ice', '0000:02:01.0']]);
  });
  it('IQE: the descriptor at IQH comes from the ring in the memory image (IQA 0x5f00000), else from debugfs', () => {
    // Slot 100 holds the refused descriptor: a page-selective IOTLB invalidation — type 2, G 11b
    // (bits 5:4), DW and DR (bits 6, 7), DID 6 (bits 31:16) = 0x600f2 — with reserved bit 12 set → 0x610f2.
    const s = loadCapture(SAMPLE);
    const u = s.units[0];
    expect(u.queueErrorWindow?.head).toBe(100);
    expect(u.queueErrorWindow?.descriptors[0]).toMatchObject({ index: 100, addr: 0x5f00000 + 100 * 16, qw: [0x610f2n, 0x7400009n] });
    const fromMemory = resultOf(invalidationQueueError, s).findings[0];
    expect(fromMemory.evidence).toMatchObject({ descriptorFrom: 'memory image', qw0: '0x610f2', descriptorType: 2 });
    expect(fromMemory.message).toContain('descriptor 100: iotlb page-selective DID 6 ADDR 0x7400000 AM 9');
    u.queueErrorWindow = undefined;
    expect(resultOf(invalidationQueueError, s).findings[0].evidence).toMatchObject({ descriptorFrom: 'debugfs invalidation_queue', qw0: '0x610f2' });
    u.invalidationQueue = undefined;
    expect(resultOf(invalidationQueueError, s).findings[0].message).toContain("the queue's contents are not in the capture");
  });
  it('ITE: IQH is past the wait descriptor; the device-TLB invalidation it waited for is named from the image', () => {
    // A 256-slot ring at 0x100000: 0 wait, 1 device-TLB invalidation of SID 0x0100 (01:00.0), 2 the
    // wait that timed out, 3 a global IOTLB invalidation; IQH 0x30 = slot 3 (128-bit descriptors).
    const phys = new PhysBuilder();
    const ring: [bigint, bigint][] = [
      [0x0000_0002_0000_0025n, 0x14ec00n], // wait: type 5, SW (bit 5), status data 2
      [0x0000_0100_0000_0003n, 0x1234_5000n], // device-TLB: type 3, SID bits 47:32, ADDR
      [0x0000_0002_0000_0025n, 0x14ec08n],
      [0x12n, 0n], // IOTLB global: type 2, G 01b
    ];
    ring.forEach(([a, b], i) => {
      phys.writeQword(0x100000 + i * 16, a);
      phys.writeQword(0x100000 + i * 16 + 8, b);
    });
    const s = withRegisters({ FSTS: 0x40n, IQA: 0x100000n, IQH: 0x30n, IQERCD: 0x0100n << 32n });
    s.units[0].invalidationQueue = undefined;
    s.units[0].queueErrorWindow = readQueueErrorWindow(memoryOf(phys), 'test.mem', { base: 0x100000, length: 256, descriptorBytes: 16, iqh: 0x30n });
    const f = resultOf(invalidationQueueError, s).findings;
    expect(f.map((x) => [x.messageId, x.bdf])).toEqual([['ite', '0000:01:00.0']]);
    expect(f[0].evidence).toMatchObject({ waitIndex: 2, deviceTlbInvalidations: [{ index: 1, descriptor: 'device-tlb SID 01:00.0 ADDR 0x12345000' }] });
    expect(f[0].message).toMatch(/past the wait descriptor 2 \(from the memory image\), which waited for device-tlb SID 01:00\.0 ADDR 0x12345000 \(descriptor 1\)/);
  });
  it('silent with FSTS clear; not-applicable without any FSTS, partial when one unit lacks it', () => {
    expect(resultOf(invalidationQueueError, withRegisters({ FSTS: 0n })).findings).toEqual([]);
    const s = loadCapture(SAMPLE);
    const u = s.units[0];
    if (u.registers) {
      const { FSTS: _f, ...raw } = u.registers.raw;
      u.registers = buildUnitRegisters(u.registerBase, raw);
    }
    expect(resultOf(invalidationQueueError, s).status).toBe('not-applicable');
    const two = loadCapture(SAMPLE);
    two.units.push({ ...two.units[0], registerBase: 0xfed91000, registers: undefined });
    const r = resultOf(invalidationQueueError, two);
    expect([r.status, r.findings.length]).toEqual(['partial', 1]);
    expect(r.reasons[0]).toMatch(/^unit 0xfed91000: FSTS is not in the capture/);
  });
});
