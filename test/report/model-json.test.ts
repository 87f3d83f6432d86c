import { describe, expect, it } from 'vitest';
import { snapshotToJson, streamJson, streamSnapshotJson, LazyArray } from '../../src/report/model-json.js';
import type { Mapping } from '../../src/model/types.js';
import { snapshot, TOOL, validator } from './fixture.js';

type J = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- walking parsed JSON in tests

function streamed(s: ReturnType<typeof snapshot>, chunkSize?: number): { text: string; chunks: string[] } {
  const chunks: string[] = [];
  streamSnapshotJson(s, (c) => chunks.push(c), { tool: TOOL, chunkSize });
  return { text: chunks.join(''), chunks };
}

describe('snapshotToJson', () => {
  const j = snapshotToJson(snapshot(), { tool: TOOL }) as J;

  it('has the header fields', () => {
    expect(j.schemaVersion).toBe(1);
    expect(j.tool).toEqual({ name: 'dmarsift', version: '9.8.7' });
    expect(j.capture.path).toBe('/captures/host 1');
    expect(j.capture.parts[2]).toEqual({ kind: 'registers', path: 'registers.txt', format: 'iommu_regset', unit: '0xfed90000', note: null });
    expect(j.haw).toBe(46);
  });

  it('spells a legacy unit as the contract says', () => {
    const u = j.units[0];
    expect(u.name).toBe('dmar0');
    expect(u.segment).toBe(0);
    expect(u.registerBase).toBe('0xfed90000');
    expect(u.version).toBe('1.0');
    expect(u.gsts).toEqual({ raw: '0xc0000000', TES: true, RTPS: true, FLS: false, AFLS: false, WBFS: false, QIES: false, IRES: false, IRTPS: false, CFIS: false });
    expect(u.rtaddr).toBe('0x1000000');
    expect(u.rtaddrSource).toEqual({ part: 'registers.txt', line: 4 });
    expect(u.mode).toBe('legacy');
    expect(u.registers.VER).toBe('1.0');
    expect(u.registers.CAP.raw).toBe('0xd2008c40660462');
    expect(u.registers.CAP.SAGAW).toBe(4);
    expect(u.registers.CAP.domains).toBe(256);
    expect(u.registers.ECAP.PT).toBe(true);
    expect(u.registers.RTADDR).toEqual({ raw: '0x1000000', TTM: 0, mode: 'legacy', RTA: '0x1000000', reserved: 0 });
    expect(u.registers.raw).toEqual({ CAP: '0xd2008c40660462', ECAP: '0xf050da', GSTS: '0xc0000000', RTADDR: '0x1000000', VER: '0x10' });
    expect(u.rootEntries[1]).toEqual({ bus: 3, lo: '0x1002001', hi: '0x0', lowerContextTable: '0x1002000', upperContextTable: null, source: { part: 'memory.elf', offset: '0x1000030' } });
  });

  it('spells context entries with hex pointers and raw qwords', () => {
    expect(j.units[0].contexts[0]).toEqual({
      bdf: '0000:03:00.0', segment: 0, bus: 3, devfn: 0, present: true, fpd: false, tt: 0, did: 1, aw: 2, levels: 4,
      slptptr: '0x2000000', raw: ['0x2000001', '0x102'], pasidDirPtr: null, pdts: null, ridPasid: null, pasids: null,
      driverHint: null, source: { part: 'memory.elf', offset: '0x1002000' },
    });
    expect(j.units[0].contexts[1].tt).toBe(2);
    expect(j.units[0].contexts[1].slptptr).toBe('0x0');
  });

  it('puts PASID entries under scalable contexts', () => {
    const c = j.units[1].contexts[0];
    expect(c.tt).toBeNull();
    expect(c.pasidDirPtr).toBe('0x5000000');
    expect(c.pasids).toEqual([
      {
        pasid: 0, present: true, fpd: false, pgtt: 2, did: 5, aw: 3, levels: 5, slptptr: '0x4000000', flptptr: '0x0', flpm: 0, sre: false,
        raw: ['0x400008d', '0x5', '0x0', '0x0', '0x0', '0x0', '0x0', '0x0'], source: { part: 'memory.elf', offset: '0x6000000' },
      },
    ]);
    expect(j.units[1].translationEnabled).toBe(false);
    expect(j.units[1].gsts).toBeNull();
    expect(j.units[1].registers).toBeNull();
    expect(j.units[1].name).toBeNull();
  });

  it('writes mappings exactly, IOVAs above 2^53 included', () => {
    const d = j.units[0].domains[0];
    expect(d).toMatchObject({ did: 1, root: '0x2000000', kind: 'second-level', aw: 2, levels: 4, pageCount: 528, complete: true, mappingsKnown: true, tablePages: 4 });
    // 528 pages × 4096 = 2162688 = 0x210000
    expect(d.mappedBytes).toBe('0x210000');
    expect(d.mappings).toEqual([
      { iova: '0x0', hpa: '0x100000', size: '0x10000', read: true, write: false, pageSize: 4096 },
      // (2^44 + 0x345) << 12 = 2^56 + 0x345000
      { iova: '0x100000000345000', hpa: '0x12400000', size: '0x200000', read: true, write: true, pageSize: 2097152, snp: true },
    ]);
    expect(j.units[1].tableProblems).toEqual([
      { structure: 'page-table', kind: 'missing-page', level: 5, entryAddr: '0x4000000', raw: '0x0', entry: ['0x0'], faultBits: ['0x0'], target: null, message: 'page-table page 0x4000000 is not in the image', bdf: null, did: 5, source: null },
    ]);
  });

  it('writes the DMAR table, inventory, VMs, memory map, faults and warnings', () => {
    expect(j.dmar).toMatchObject({ haw: 46, flags: 5, intrRemap: true, dmaCtrlPlatformOptIn: true });
    expect(j.dmar.structures[0]).toMatchObject({ kind: 'DRHD', offset: '0x30', registerBase: '0xfed90000', includePciAll: true });
    expect(j.dmar.structures[0].scopes[0]).toEqual({
      type: 1, typeName: 'endpoint', flags: 0, enumerationId: 0, startBus: 3, path: [{ device: 0, function: 0 }], bdf: '0000:03:00.0', offset: '0x40',
    });
    expect(j.dmar.structures[1]).toMatchObject({ kind: 'RMRR', base: '0x7b800000', limit: '0x7fffffff' });
    expect(j.devices[0]).toEqual({
      bdf: '0000:03:00.0', driver: 'ppt', deviceUnit: 'ppt0', vendor: '0x8086', device: '0x10fb', vendorName: 'Intel Corporation',
      deviceName: '82599ES 10-Gigabit', class: '0x20000', passThrough: true, vm: 'guest1', numVfs: null, physfn: null,
      secondaryBus: null, subordinateBus: null, source: { part: 'pciconf.txt', line: 7 },
    });
    expect(j.vms).toEqual([{ name: 'guest1', hypervisor: 'bhyve', passthru: ['0000:03:00.0'], memoryBytes: '0x100000000', source: { part: 'vms.txt', line: 1 } }]);
    expect(j.memoryMap).toEqual([{ start: '0x0', end: '0x80000000', type: 'ram', name: 'System RAM', source: { part: 'memmap.txt', line: 1 } }]);
    // 0x1234 << 12 | 0x10
    expect(j.faults[0]).toMatchObject({ unit: '0xfed90000', bdf: '0000:03:00.0', iova: '0x1234010', reason: 6, type: 'read', pasid: null, dumped: null });
    expect(j.warnings).toEqual([
      { message: 'page 0x5000000 of the PASID directory is not in the image', source: { part: 'memory.elf', offset: '0x2000' } },
      { message: 'unrecognised line kept as a note', source: { part: 'dmesg.txt', line: 12 } },
      { message: 'no HAW in capture', source: null },
    ]);
  });

  it('never holds a bigint, and every 0x string is lower-case without padding', () => {
    const bad: string[] = [];
    const walk = (v: unknown, path: string): void => {
      if (typeof v === 'bigint') bad.push(`${path}: bigint`);
      else if (typeof v === 'string' && /^0x/i.test(v) && !/^0x(0|[1-9a-f][0-9a-f]*)$/.test(v)) bad.push(`${path}: ${v}`);
      else if (Array.isArray(v)) v.forEach((x, i) => { walk(x, `${path}[${i}]`); });
      else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, `${path}.${k}`);
    };
    walk(j, '$');
    expect(bad).toEqual([]);
  });

  it('validates against schema/decode-model.schema.json', () => {
    const validate = validator('decode-model.schema.json');
    expect(validate(j)).toEqual([]);
    // The schema can fail: an address as a number, and a padded hex string, are both rejected.
    const broken = JSON.parse(JSON.stringify(j)) as J;
    broken.units[0].domains[0].mappings[1].iova = 72057594041200640;
    broken.units[0].registerBase = '0x00fed90000';
    expect(validate(broken).length).toBeGreaterThanOrEqual(2);
  });
});

describe('streamSnapshotJson', () => {
  it('writes JSON.stringify(snapshotToJson(s), null, 2) plus a newline, but each mapping on one line', () => {
    const s = snapshot();
    const { text } = streamed(s);
    const model = snapshotToJson(s, { tool: TOOL });
    expect(JSON.parse(text)).toEqual(model);
    // The expected text, built independently: pretty-print with each mapping as a placeholder,
    // then put in the mapping's compact JSON with a space after every ':' and ','.
    const oneLine: string[] = [];
    const marked = JSON.stringify(model, (key, value: unknown) => (key === 'mappings' && Array.isArray(value) ? value.map((m) => `\u0000${oneLine.push(JSON.stringify(m).replace(/":/g, '": ').replace(/,"/g, ', "')) - 1}`) : value), 2);
    expect(oneLine.length).toBeGreaterThan(1);
    const want = marked.replace(/"\\u0000(\d+)"/g, (_, i: string) => oneLine[Number(i)]) + '\n';
    expect(text).toBe(want);
    expect(text).toContain('{"iova": "0x');
  });

  it('streams a 65 536-mapping domain in bounded chunks and parses to the same object', () => {
    const s = snapshot();
    const d = s.units[0].domains[0];
    const many: Mapping[] = [];
    // Alternating permissions keep the runs apart, as the coalescer would.
    for (let i = 0; i < 65536; i++) many.push({ iovaPfn: 2 ** 44 + 2 * i, hpaPfn: 0x80000 + i, pages: 1, read: true, write: i % 2 === 0, pageSize: 4096 });
    d.mappings = many;
    d.pageCount = many.length;
    const chunkSize = 16384;
    const { text, chunks } = streamed(s, chunkSize);
    expect(chunks.length).toBeGreaterThan(100);
    // A chunk is flushed as soon as it reaches chunkSize, so it exceeds it by at most one piece.
    expect(Math.max(...chunks.map((c) => c.length))).toBeLessThan(chunkSize + 1024);
    const parsed = JSON.parse(text) as J;
    expect(parsed).toEqual(snapshotToJson(s, { tool: TOOL }));
    const m = parsed.units[0].domains[0].mappings;
    expect(m).toHaveLength(65536);
    // (2^44 + 2·65535) << 12 = 2^56 + 0x1fffe000
    expect(m[65535]).toEqual({ iova: '0x10000001fffe000', hpa: '0x8ffff000', size: '0x1000', read: true, write: false, pageSize: 4096 });
    expect(parsed.units[0].domains[0].mappedBytes).toBe('0x10000000');
  });
});

describe('streamJson', () => {
  it('matches JSON.stringify on edge shapes and expands lazy arrays', () => {
    const v = { a: [], b: {}, c: [1, [2, {}], { d: null, e: undefined }], s: 'q"\\\n', n: -0.5, lazyEmpty: new LazyArray(0, () => []) };
    let out = '';
    streamJson(v, (c) => (out += c), 4);
    expect(out).toBe(JSON.stringify({ ...v, lazyEmpty: [] }, null, 2) + '\n');
    out = '';
    streamJson({ x: new LazyArray(2, () => [1, { y: 2 }]) }, (c) => (out += c));
    expect(out).toBe(JSON.stringify({ x: [1, { y: 2 }] }, null, 2) + '\n');
  });
});
