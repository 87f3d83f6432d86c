/**
 * The kernel's own text (debugfs + dmesg) and the binary parts (register dump + memory image) of the
 * same real Linux 6.1 state must decode to the same model: same context entries, same mappings leaf
 * for leaf. Both captures' README.md state the truth checked here. Run through the built CLI with
 * `--only`, as a user comparing the two halves of a capture directory would.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { capturePath } from '../helpers/captures.js';
import { cliJson } from '../helpers/cli.js';

const TEXT = 'dmar,debugfs-translation,debugfs-domain,dmesg';
const BINARY = 'dmar,registers,memory';

type Json = any;

const cache = new Map<string, Json>();

/** Decoded once per (capture, parts) and only when a test asks (collection must not spawn). */
function decode(capture: string, only: string): Json {
  const key = `${capture} ${only}`;
  if (!cache.has(key)) cache.set(key, decodeNow(capture, only));
  return cache.get(key);
}

function decodeNow(capture: string, only: string): Json {
  const r = cliJson(['decode', capturePath(capture), '--only', only, '--format', 'json']);
  expect(r.status, r.stderr).toBe(0);
  expect(r.stderr).toBe('');
  return r.json;
}

/** A context entry without where it was read from (the one field that must differ). */
function contextFacts(c: Json): Json {
  const { source: _s, ...rest } = c;
  return rest;
}

/** Every leaf of a domain: [iova, hpa, read, write, pageSize], one per page of each mapping. */
function leaves(d: Json): string[] {
  const out: string[] = [];
  for (const m of d.mappings) {
    const size = BigInt(m.size);
    const step = BigInt(m.pageSize);
    for (let off = 0n; off < size; off += step) {
      out.push(`${(BigInt(m.iova) + off).toString(16)} ${(BigInt(m.hpa) + off).toString(16)} ${m.read ? 'r' : '-'}${m.write ? 'w' : '-'} ${m.pageSize}`);
    }
  }
  return out;
}

function domainFacts(d: Json): Json {
  const { source: _s, mappings: _m, ...rest } = d;
  return rest;
}

describe('real Linux 6.1 captures: text parts alone = binary parts alone', () => {
  for (const [capture, bdfs, domains] of [
    ['qemu-linux61-debugfs', ['0000:00:00.0', '0000:00:02.0', '0000:00:03.0', '0000:00:1f.0', '0000:00:1f.2', '0000:00:1f.3', '0000:01:00.0', '0000:02:00.0'], [[2, 0], [3, 0], [4, 0], [5, 4096], [6, 258], [7, 322]]],
    ['qemu-linux61-dmar-fault', ['0000:00:00.0', '0000:00:02.0', '0000:00:03.0', '0000:00:1f.0', '0000:00:1f.2', '0000:00:1f.3', '0000:01:00.0'], [[2, 0], [3, 0], [4, 0], [5, 4096], [6, 258]]],
  ] as const) {
    describe(capture, () => {
      let text: Json;
      let bin: Json;
      beforeAll(() => {
        text = decode(capture, TEXT);
        bin = decode(capture, BINARY);
      });

      it('each half reads only its own parts', () => {
        const kinds = (j: Json) => [...new Set(j.capture.parts.map((p: Json) => p.kind).filter((k: string) => k !== 'ignored'))].sort();
        expect(kinds(text)).toEqual(['debugfs-domain', 'debugfs-translation', 'dmar', 'dmesg']);
        expect(kinds(bin)).toEqual(['dmar', 'memory', 'registers']);
      });

      it('both decode with no warning, but for the IR table pages the image does not hold', () => {
        expect(text.warnings).toEqual([]);
        // The memory image keeps only the first page of the 1 MiB IR table (IRTA.S = 15: 65,536
        // entries of 16 bytes = 256 pages): the other 255 are unknown, and the binary half says so.
        expect(bin.warnings).toEqual([
          { message: expect.stringMatching(/^unit 0xfed90000: 255 of the interrupt remapping table's pages are not in the image memory\.elf/), source: { part: 'memory.elf' } },
        ]);
      });

      it('one unit, dmar0 at 0xfed90000, legacy root table 0x23c5000 (from debugfs in one, RTADDR in the other)', () => {
        for (const j of [text, bin]) {
          expect(j.units).toHaveLength(1);
          expect(j.units[0]).toMatchObject({ name: 'dmar0', registerBase: '0xfed90000', segment: 0, version: '1.0', translationEnabled: true, rtaddr: '0x23c5000', mode: 'legacy' });
        }
        expect(text.units[0].rtaddrSource).toEqual({ part: 'dmar_translation_struct', line: 1 });
        expect(bin.units[0].rtaddrSource.part).toBe('iommu_regset');
      });

      it('the same context entries, field for field and raw qword for raw qword', () => {
        const t = text.units[0].contexts;
        const b = bin.units[0].contexts;
        expect(t.map((c: Json) => c.bdf)).toEqual(bdfs);
        expect(t.map(contextFacts)).toEqual(b.map(contextFacts));
        for (const c of t) expect(c).toMatchObject({ present: true, tt: 0, aw: 1, levels: 3 });
        expect(t[0].source.part).toBe('dmar_translation_struct');
        expect(b[0].source.part).toBe('memory.elf');
      });

      it('the same domains and the same mappings, leaf for leaf', () => {
        const t = text.units[0].domains;
        const b = bin.units[0].domains;
        expect(t.map((d: Json) => [d.did, d.pageCount])).toEqual(domains);
        expect(t.map(domainFacts)).toEqual(b.map(domainFacts));
        for (let i = 0; i < t.length; i++) {
          const lt = leaves(t[i]);
          expect(lt).toHaveLength(t[i].pageCount);
          expect(lt).toEqual(leaves(b[i]));
          expect(t[i].mappings).toEqual(b[i].mappings); // coalesced the same way too
          expect(t[i].source.part).toBe('domain_translation_struct');
          expect(b[i].source.part).toBe('memory.elf');
        }
      });

      it('the README sample translations hold in the text decode', () => {
        const dom = (did: number) => text.units[0].domains.find((d: Json) => d.did === did);
        const leafOf = (did: number, iova: number) => leaves(dom(did)).find((l) => l.startsWith(iova.toString(16) + ' '));
        if (capture === 'qemu-linux61-debugfs') {
          expect(leafOf(6, 0xffefd000)).toBe('ffefd000 2d75000 rw 4096');
          expect(leafOf(6, 0xfffff000)).toBe('fffff000 2c59000 rw 4096');
          expect(leafOf(7, 0xffebd000)).toBe('ffebd000 2cd1000 rw 4096');
          expect(leafOf(7, 0xfffff000)).toBe('fffff000 2afc000 rw 4096');
        }
        expect(leafOf(5, 0xfff000)).toBe('fff000 fff000 rw 4096');
        expect(dom(5).mappings).toEqual([{ iova: '0x0', hpa: '0x0', size: '0x1000000', read: true, write: true, pageSize: 4096 }]);
      });

      it('root entries: the text shows only buses with a present context entry', () => {
        const buses = (j: Json) => j.units[0].rootEntries.map((r: Json) => [r.bus, r.lo]);
        // The kernel's dmar_translation_struct prints one row per present context entry and the root
        // entry beside it, so a root entry whose context table is empty never appears there. In the
        // fault capture, bus 2 lost its only device (hot-unplug) but kept its root entry: the memory
        // image shows it, the text cannot. That is the one true difference between the two halves.
        const textBuses = [[0, '0x2845001'], [1, '0x285c001']];
        if (capture === 'qemu-linux61-debugfs') textBuses.push([2, '0x286f001']);
        expect(buses(text)).toEqual(textBuses);
        expect(buses(bin)).toEqual([[0, '0x2845001'], [1, '0x285c001'], [2, '0x286f001']]);
      });
    });
  }
});

describe('qemu-linux61-dmar-fault: the two DMA faults from dmesg', () => {
  let text: Json;
  beforeAll(() => {
    text = decode('qemu-linux61-dmar-fault', TEXT);
  });

  it('decode as README says: source, address, reason and the entries the kernel dumped', () => {
    expect(text.faults).toEqual([
      {
        unit: '0xfed90000', bdf: '0000:01:00.0', iova: '0xbadd000', reason: 6, reasonText: 'PTE Read access is not set', type: 'read', pasid: null,
        dumped: { root: '0x285c001', contextLo: '0x285b001', contextHi: '0x601', levels: [{ level: 3, entry: '0x0' }], note: expect.stringMatching(/page table not present at level 2/) },
        reasonName: 'read access denied (R = 0 in a paging entry)',
        // Text parts only: no memory image to walk, so the decoded mappings answer (no steps).
        explanation: expect.objectContaining({ method: 'mappings', code: 6, agrees: true, steps: [] }),
        source: { part: 'dmesg.txt', line: expect.any(Number) },
      },
      {
        unit: '0xfed90000', bdf: '0000:01:00.0', iova: '0xffe00000', reason: 6, reasonText: 'PTE Read access is not set', type: 'read', pasid: null,
        dumped: {
          root: '0x285c001', contextLo: '0x285b001', contextHi: '0x601',
          levels: [{ level: 3, entry: '0x2c4e003' }, { level: 2, entry: '0x2c4f003' }, { level: 1, entry: '0x0' }],
          note: expect.stringMatching(/page table not present at level 0/),
        },
        reasonName: 'read access denied (R = 0 in a paging entry)',
        explanation: expect.objectContaining({ method: 'mappings', code: 6, agrees: true, steps: [] }),
        source: { part: 'dmesg.txt', line: expect.any(Number) },
      },
    ]);
  });

  it('the dumped entries are what a walk of the memory image finds, and the walk faults at the same level', () => {
    for (const f of text.faults) {
      const r = cliJson(['translate', capturePath('qemu-linux61-dmar-fault'), '--only', BINARY, '--bdf', f.bdf, '--iova', f.iova, '--format', 'json']);
      expect(r.status).toBe(1); // the hardware would fault
      const steps = r.json.steps;
      expect(steps[0]).toMatchObject({ structure: 'root', entry: [f.dumped.root, '0x0'] });
      expect(steps[1]).toMatchObject({ structure: 'context', entry: [f.dumped.contextLo, f.dumped.contextHi] });
      const walked = steps.filter((s: Json) => s.structure === 'page-table').map((s: Json) => ({ level: s.level, entry: s.entry[0] }));
      expect(walked).toEqual(f.dumped.levels);
      expect(r.json.fault).toMatchObject({ code: f.reason, level: f.dumped.levels[f.dumped.levels.length - 1].level });
    }
  });

  it('the register dump taken afterwards has no fault record (the kernel cleared it): faults come from dmesg only', () => {
    const bin = decode('qemu-linux61-dmar-fault', BINARY);
    expect(bin.faults).toEqual([]);
  });
});
