/**
 * The dmardump writer the generator uses for text-only samples, against output written by hand from
 * dmardump.c's printf formats (handle_drhd, dump_context_table), and read back by the parser.
 */
import { describe, expect, it } from 'vitest';
import { parseDmardump } from '../../src/text/dmardump.js';
import { formatDmardump, type DmardumpUnit, type PciLookup } from '../../src/synth/text-formats.js';

// FreeBSD's view of the PCI bus: ppt0 is an ARI VF (slot 0, function 8); em0 at slot 25.
const devices = [
  { segment: 0, bus: 0, slot: 25, func: 0, name: 'em0' },
  { segment: 0, bus: 0, slot: 31, func: 3 }, // no driver attached
  { segment: 0, bus: 3, slot: 0, func: 8, name: 'ppt0' },
];
const lookup: PciLookup = (segment, bus, slot, func) => {
  const d = devices.find((x) => x.segment === segment && x.bus === bus && x.slot === slot && x.func === func);
  return d ? { slot, func, ...(d.name ? { name: d.name } : {}) } : undefined;
};
const P = 1n;
const ctx = (devfn: number, lo: bigint, did: number) => ({ devfn, lo, hi: BigInt(did) << 8n | 2n });

const units: DmardumpUnit[] = [
  { base: 0xfed90000, segment: 0, version: [1, 0], gsts: 0x40000000, rtaddr: 0x7e000000n, buses: [] }, // TES off
  { base: 0xfed91000, segment: 0, version: [1, 0], gsts: 0x80000000, rtaddr: 0n, buses: [] }, // TES on, RTPS off
  {
    base: 0xfed92000, segment: 0, version: [6, 1], gsts: 0xc7000000, rtaddr: 0x7f000000n,
    buses: [
      { bus: 0, contexts: [ctx(0xc8, 0x7f004000n | P, 0), ctx(0xfb, 0x7f004000n | P | 2n, 0), ctx(0xfa, 0x7f004000n, 0) /* not present */] },
      { bus: 3, contexts: [ctx(8, 0n | P | (2n << 2n), 1), ctx(9, 0x7f001000n | P, 4097), ctx(10, 0x7f001000n | P | (3n << 2n), 2), ctx(11, 0x7f001000n | P | (1n << 2n), 2)] },
      { bus: 7, contexts: [ctx(0, 0x7f004000n, 0)] }, // root entry present, no present context: no "PCI bus" line
      { bus: 255, contexts: [ctx(0, 0x7f004000n | P, 0)] }, // the tool's loop stops at 254
    ],
  },
  { base: 0xfed93000, segment: 1, version: [1, 0], gsts: 0xc0000000, rtaddr: 0x7d000800n, buses: [{ bus: 0, contexts: [ctx(0, 0x1000n | P, 0)] }] }, // extended
];

const EXPECTED = [
  'drhd @ 0xfed90000 (version 1.0) PCI segment 0 (disabled):',
  'drhd @ 0xfed91000 (version 1.0) PCI segment 0:',
  'drhd @ 0xfed92000 (version 6.1) PCI segment 0:',
  '    root table @ 0x0x7f000000',
  '\tPCI bus 0:',
  '\t    { 25,0 } (em0) UNTR SLPT 0x7f004000 domain 0',
  '\t    { 31,3 } FPD UNTR SLPT 0x7f004000 domain 0',
  '\tPCI bus 3:',
  '\t    { 0,8 } (ppt0) PASS SLPT 0 domain 1',
  '\t    { 1,1 } (absent) UNTR SLPT 0x7f001000 domain 1',
  '\t    { 1,2 } (absent) TT3? SLPT 0x7f001000 domain 2',
  '\t    { 1,3 } (absent) TR SLPT 0x7f001000 domain 2',
  'drhd @ 0xfed93000 (version 1.0) PCI segment 1:',
  '    extended root table @ 0x0x7d000000',
  '',
].join('\n');

describe('formatDmardump', () => {
  it("prints what dmardump.c's printf formats print", () => {
    // hi = DID << 8 | AW 2: `domain` is (hi & 0xffff0) >> 8, DID bits 11:0 only, so DID 4097 (0x1001) prints as 1.
    expect(formatDmardump(units, lookup)).toBe(EXPECTED);
  });

  it('reads back through the dmardump parser', () => {
    const c = parseDmardump(formatDmardump(units, lookup), 'dmardump.txt');
    expect(c.units?.map((u) => [u.registerBase, u.translationEnabled, u.rootTable])).toEqual([
      [0xfed90000, false, undefined],
      [0xfed91000, true, undefined],
      [0xfed92000, true, 0x7f000000],
      [0xfed93000, true, 0x7d000000],
    ]);
    const ctxs = c.units![2].contexts!.map((x) => [x.bdf, x.tt, x.did, x.slptptr, x.fpd, x.driverHint ?? null]);
    expect(ctxs).toEqual([
      ['0000:00:19.0', 0, 0, 0x7f004000, false, 'em0'],
      ['0000:00:1f.3', 0, 0, 0x7f004000, true, null],
      ['0000:03:01.0', 2, 1, 0, false, 'ppt0'],
      ['0000:03:01.1', 0, 1, 0x7f001000, false, 'absent'],
      ['0000:03:01.2', 3, 2, 0x7f001000, false, 'absent'],
      ['0000:03:01.3', 1, 2, 0x7f001000, false, 'absent'],
    ]);
  });
});
