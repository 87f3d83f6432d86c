import { describe, expect, it } from 'vitest';
import { tableIntegrity } from '../../src/checks/table-integrity.js';
import { NIC, PPT, UNIT } from './fixtures.js';
import { snapshot, summary } from './snapshot-builder.js';
import { findingsOf } from './check-tester.js';

describe('table-integrity', () => {
  it('reports model table problems with address and raw value', () => {
    const s = snapshot().unit(UNIT, (u) => u.problem({ message: 'PTE has reserved bits set', bdf: PPT, did: 1, entryAddr: 0x5008, raw: 0x800n })).build();
    const f = findingsOf(tableIntegrity, s);
    expect(summary(f)).toEqual([`table-integrity error ${PPT}`]);
    expect(f[0].evidence).toMatchObject({ entryAddr: '0x5008', raw: '0x800' });
  });
  it('checks AW against SAGAW, DID against ND, TT against ECAP, TT = 3', () => {
    const s = snapshot()
      .unit(UNIT, (u) =>
        u.regs({ sagaw: 0b0100, nd: 0, dt: false, pt: false })
          .context('0000:00:01.0', { did: 1, aw: 1, root: 0x1000 }) // AW 1 not in SAGAW 0b100
          .context('0000:00:02.0', { did: 16, aw: 2, root: 0x1000 }) // ND 0 → 16 domains
          .context('0000:00:03.0', { did: 2, tt: 1, root: 0x1000 }) // TT 01 without DT
          .context('0000:00:04.0', { did: 2, tt: 2 }) // TT 10 without PT
          .context('0000:00:05.0', { did: 2, tt: 3 }) // reserved
          .context(NIC, { did: 3, aw: -1, root: 0x2000 }), // unknown AW (dmardump): fine
      )
      .build();
    expect(summary(findingsOf(tableIntegrity, s))).toEqual([
      'table-integrity error 0000:00:01.0', 'table-integrity error 0000:00:02.0', 'table-integrity error 0000:00:03.0',
      'table-integrity error 0000:00:04.0', 'table-integrity error 0000:00:05.0',
    ]);
  });
  it('checks PGTT against ECAP, TES without RTPS, and RTADDR TTM/reserved bits', () => {
    const s = snapshot()
      .unit(UNIT, (u) => u.regs({ tes: true, rtps: false, ttm: 2, rtaddrReserved: 1, flts: false }).scalableContext(PPT, [{ pasid: 1, pgtt: 1, did: 2, flptptr: 0x5000 }, { pasid: 2, pgtt: 6, did: 2 }]))
      .build();
    const f = findingsOf(tableIntegrity, s);
    // PGTT 1 without FLTS, PGTT 6 reserved; TES without RTPS; TTM 10b; reserved bits.
    expect(summary(f)).toEqual(['table-integrity error -', 'table-integrity error -', 'table-integrity error -', `table-integrity error ${PPT}`, `table-integrity error ${PPT}`]);
  });
  const MAX_PROBLEMS_PER_UNIT = tableIntegrity.meta.options!.maxPerUnit.default;
  it(`summarises after ${MAX_PROBLEMS_PER_UNIT} problems in one unit (option maxPerUnit)`, () => {
    const s = snapshot().unit(UNIT, (u) => { for (let i = 0; i < MAX_PROBLEMS_PER_UNIT + 5; i++) u.problem({ message: `p${i}`, entryAddr: 0x5000 + 8 * i }); }).build();
    const f = findingsOf(tableIntegrity, s);
    expect(f).toHaveLength(MAX_PROBLEMS_PER_UNIT + 1);
    expect(f[MAX_PROBLEMS_PER_UNIT].evidence.more).toBe(5);
    expect(f[MAX_PROBLEMS_PER_UNIT].messageId).toBe('moreProblems');
    // The option sets where the summary starts.
    const three = findingsOf(tableIntegrity, s, { maxPerUnit: 3 });
    expect(three.map((x) => x.messageId)).toEqual(['tableProblem', 'tableProblem', 'tableProblem', 'moreProblems']);
    expect(three[3].evidence.more).toBe(MAX_PROBLEMS_PER_UNIT + 2);
  });
  it('stays quiet for valid entries', () => {
    const s = snapshot().unit(UNIT, (u) => u.regs({ sagaw: 0b0110, nd: 2 }).context(PPT, { did: 1, aw: 2, root: 0x1000 }).context(NIC, { did: 2, aw: 1, tt: 2 })).build();
    expect(summary(findingsOf(tableIntegrity, s))).toEqual([]);
  });
});

describe('table-integrity on hostile tables: work linear in contexts + problems', () => {
  it('AW 5+ on many contexts reads the problem list a bounded number of times, not once per context', () => {
    const n = 300;
    const s = snapshot()
      .unit(UNIT, (u) => {
        for (let i = 0; i < n; i++) {
          const bdf = `0000:${(i >> 8).toString(16).padStart(2, '0')}:${((i >> 3) & 31).toString(16).padStart(2, '0')}.${i & 7}`;
          u.context(bdf, { did: 1 + i, aw: 5, root: 0x1000 }).problem({ message: 'PTE has reserved bits set', bdf, did: 1 + i, entryAddr: 0x5008 + 8 * i, raw: 0x800n });
        }
        return u;
      })
      .build();
    const unit = s.units[0];
    let reads = 0;
    unit.tableProblems = new Proxy(unit.tableProblems, {
      get(target, key, receiver) {
        if (typeof key === 'string' && /^\d+$/.test(key)) reads++;
        return Reflect.get(target, key, receiver);
      },
    });
    findingsOf(tableIntegrity, s);
    expect(reads).toBeLessThanOrEqual(4 * n);
  });
});
