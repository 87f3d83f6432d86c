import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCapture } from '../../src/capture/load.js';
import { invalidationQueueError } from '../../src/checks/invalidation-queue-error.js';
import { buildUnitRegisters } from '../../src/decode/registers.js';
import type { Snapshot } from '../../src/model/types.js';
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
  it('silent with FSTS clear; partial without FSTS', () => {
    expect(resultOf(invalidationQueueError, withRegisters({ FSTS: 0n })).findings).toEqual([]);
    const s = loadCapture(SAMPLE);
    const u = s.units[0];
    if (u.registers) {
      const { FSTS: _f, ...raw } = u.registers.raw;
      u.registers = buildUnitRegisters(u.registerBase, raw);
    }
    expect(resultOf(invalidationQueueError, s).status).toBe('partial');
  });
});
