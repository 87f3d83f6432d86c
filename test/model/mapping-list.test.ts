import { describe, expect, it } from 'vitest';
import { MappingCoalescer } from '../../src/model/coalesce.js';
import { attachMappingList, mappingListOf, type HasMappings } from '../../src/model/mapping-list.js';

/** A holder whose list came from the coalescer, as a walk result or a domain has it. */
function holderWithList(): HasMappings {
  const c = new MappingCoalescer();
  c.add(0x10, 0x100, 1, true, true, 4096);
  c.add(0x20, 0x200, 1, true, false, 4096);
  return attachMappingList({ mappings: [] }, c.list);
}

describe('mappingListOf', () => {
  it('follows an array assigned after the objects were read, even of the same length', () => {
    const h = holderWithList();
    const before = h.mappings; // made from the list
    expect(before.map((m) => m.hpaPfn)).toEqual([0x100, 0x200]);
    // A new array of the same length (a test or a caller replacing the mappings).
    h.mappings = [
      { iovaPfn: 0x10, hpaPfn: 0x999, pages: 1, read: true, write: true, pageSize: 4096 },
      { iovaPfn: 0x20, hpaPfn: 0x200, pages: 1, read: true, write: false, pageSize: 4096 },
    ];
    const list = mappingListOf(h);
    expect(list.length).toBe(2);
    expect(list.hpaPfn[0]).toBe(0x999);
  });

  it('follows an array assigned before the objects were read', () => {
    const h = holderWithList();
    h.mappings = [{ iovaPfn: 0x30, hpaPfn: 0x300, pages: 2, read: true, write: true, pageSize: 4096 }];
    const list = mappingListOf(h);
    expect([list.length, list.hpaPfn[0], list.pages[0]]).toEqual([1, 0x300, 2]);
  });

  it('keeps SNP and TM absent when the walk did not set them', () => {
    const h = holderWithList();
    expect('snp' in h.mappings[0]).toBe(false);
    expect('tm' in h.mappings[0]).toBe(false);
  });
});
