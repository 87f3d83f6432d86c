/**
 * debugfs invalidation_queue (drivers/iommu/intel/debugfs.c): the real captures' queues, checked
 * against their text (read with awk-like splitting here, not with the parser), and the ring order.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { descriptorsInOrder, descriptorsSince } from '../../src/model/invalidation-queue.js';
import { looksLikeInvalidationQueue, parseInvalidationQueue } from '../../src/text/invalidation-queue.js';
import { capturePath, HAVE_CAPTURES } from '../helpers/captures.js';

const queueOf = (text: string, part = 'invalidation_queue') => parseInvalidationQueue(text, part).units![0].invalidationQueue!;

describe.skipIf(!HAVE_CAPTURES)('the real captures\' queues', () => {
  const vfioText = HAVE_CAPTURES ? readFileSync(capturePath('qemu-linux61-vfio', 'invalidation_queue'), 'utf8') : '';
  const downText = HAVE_CAPTURES ? readFileSync(capturePath('qemu-linux61-vfio-teardown', 'invalidation_queue'), 'utf8') : '';
  // The rows as the file has them: index, qw0, qw1, status (tab-separated).
  const rows = (t: string) => t.split('\n').slice(3).filter((l) => l.trim() !== '').map((l) => l.trim().split(/\t/));

  it('recognised by content; one queue for dmar0 with Base, Head and Tail as printed, 256 slots of two qwords', () => {
    expect(looksLikeInvalidationQueue(vfioText)).toBe(true);
    const c = parseInvalidationQueue(vfioText, 'invalidation_queue');
    expect(c.warnings).toEqual([]);
    expect(c.units!.map((u) => u.name)).toEqual(['dmar0']);
    const q = c.units![0].invalidationQueue!;
    expect([q.base, q.head, q.tail, q.qwords, q.slots.length]).toEqual([0x15e000, 232, 232, 2, 256]);
    const r = rows(vfioText);
    expect(q.slots.map((s) => [s.index, s.qw.map((w) => w.toString(16).padStart(16, '0')), s.status])).toEqual(r.map(([i, a, b, st]) => [Number(i), [a, b], parseInt(st, 16)]));
  });

  it('teardown: Head = Tail = 8, so the ring reads oldest-first from slot 8 and ends with slot 7', () => {
    const q = queueOf(downText);
    const order = descriptorsInOrder(q);
    expect(order).toHaveLength(256);
    expect([order[0].slot.index, order[255].slot.index]).toEqual([8, 7]);
    expect(order.some((d) => d.pending)).toBe(false);
  });

  it('the descriptors written between the two captures are the slots whose text changed (diff of the files: 232…254 and 0, 2, 4, 6, even only)', () => {
    const since = descriptorsSince(queueOf(downText), queueOf(vfioText));
    expect(since.map((d) => d.slot.index)).toEqual([232, 234, 236, 238, 240, 242, 244, 246, 248, 250, 252, 254, 0, 2, 4, 6]);
    // Slots 0 and 4: context-cache device-selective for DID 6, SID 01:00.0; 2 and 6: IOTLB domain-selective for DID 6.
    expect(since.slice(-4).map((d) => [d.descriptor.kind, d.descriptor.granularity, d.descriptor.DID])).toEqual([
      ['context-cache', 'device', 6], ['iotlb', 'domain', 6], ['context-cache', 'device', 6], ['iotlb', 'domain', 6],
    ]);
  });
});

describe('invalidation_queue text', () => {
  const SM = 'Invalidation queue on IOMMU: dmar1\n Base: 0x7f5e4000\tHead: 1\tTail: 2\nIndex\t\tqw0\t\t\tqw1\t\t\tqw2\t\t\tqw3\t\t\tstatus\n' +
    '    0\t0000000000010017\t0000000000000000\t0000000000000000\t0000000000000000\t0000000000000000\n' +
    '    1\t0000000000010016\t0000000000000000\t0000000000000000\t0000000000000000\t0000000000000001\n' +
    '    2\t0000000000000000\t0000000000000000\t0000000000000000\t0000000000000000\t0000000000000000\n\n';

  it('scalable mode: four qwords per slot; slot 1 (between Head and Tail) is pending', () => {
    const q = queueOf(SM);
    expect([q.unitName, q.base, q.qwords, q.slots.length]).toEqual(['dmar1', 0x7f5e4000, 4, 3]);
    const order = descriptorsInOrder(q);
    // From Tail (2): slot 2 is empty (left out), then 0 (processed), then 1 (pending).
    expect(order.map((d) => [d.slot.index, d.pending, d.descriptor.kind])).toEqual([[0, false, 'pasid-cache'], [1, true, 'pasid-iotlb']]);
    expect(order[1].slot.status).toBe(1);
  });

  it('two units, CRLF', () => {
    const two = (SM + SM.replace('dmar1', 'dmar2')).replace(/\n/g, '\r\n');
    expect(parseInvalidationQueue(two, 'q').units!.map((u) => u.name)).toEqual(['dmar1', 'dmar2']);
  });

  it('odd rows are warnings naming their line; text of another kind is an InputError', () => {
    const c = parseInvalidationQueue(SM.replace('    2\t0000', '    5\t0000').replace('0000000000000001\n', '0000000000000001 junk\n'), 'q');
    // Line 5 is skipped, line 6's index jumps; with one row gone Tail 2 is past the two slots left (warned at the unit's line).
    expect(c.warnings.map((w) => w.source?.line)).toEqual([5, 6, 1]);
    expect(() => parseInvalidationQueue('Hi team,\n', 'q')).toThrow(InputError);
    expect(looksLikeInvalidationQueue('Hi team,\n')).toBe(false);
  });
});

describe('invalidation_queue text: hostile input', () => {
  it('random text and mangled rows never throw anything but InputError', () => {
    const piece = fc.constantFrom('Invalidation queue on IOMMU: dmar0', ' Base: 0x15e000\tHead: 9\tTail: 3', 'Index\t\tqw0\t\t\tqw1\t\t\tstatus',
      '    0\t00000000000600f2\t0000000000bd7006\t0000000000000000', '99999999999\tffffffffffffffff\tffffffffffffffff\tffffffffffffffff', '\t', '');
    fc.assert(fc.property(fc.array(fc.oneof(fc.string(), piece), { maxLength: 12 }), (lines) => {
      try {
        const c = parseInvalidationQueue(lines.join('\n'), 'fuzz');
        for (const u of c.units ?? []) descriptorsInOrder(u.invalidationQueue!);
      } catch (e) {
        if (!(e instanceof InputError)) throw e;
      }
    }), { numRuns: 500 });
  });

  it('a ring is bounded: rows past 32768 (the most IQA.QS allows) are skipped with one warning', () => {
    const rows = Array.from({ length: 32770 }, (_, i) => `${String(i).padStart(5)}\t0000000000000005\t0000000000000000\t0000000000000000`).join('\n');
    const c = parseInvalidationQueue(`Invalidation queue on IOMMU: dmar0\n Base: 0x1000\tHead: 0\tTail: 0\nIndex\t\tqw0\t\t\tqw1\t\t\tstatus\n${rows}\n`, 'q');
    expect(c.units![0].invalidationQueue!.slots).toHaveLength(32768);
    expect(c.warnings.map((w) => [w.source?.line, w.message])).toEqual([[4 + 32768, expect.stringMatching(/more than 32768 descriptors/)]]);
  });
});
