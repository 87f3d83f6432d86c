import type { PhysicalMemory, PhysRange } from '../../src/image/types.js';
import type { PhysBuilder } from '../../src/synth/phys.js';

/** An in-memory PhysicalMemory over a PhysBuilder's pages, counting reads (for work bounds). */
export function memoryOf(phys: PhysBuilder, path = 'test.mem'): PhysicalMemory & { reads: number } {
  const pfns = [...phys.pages.keys()].sort((a, b) => a - b);
  const ranges: PhysRange[] = [];
  for (const pfn of pfns) {
    const last = ranges[ranges.length - 1];
    if (last && last.end === pfn * 4096) last.end += 4096;
    else ranges.push({ start: pfn * 4096, end: pfn * 4096 + 4096, fileOffset: pfn * 4096 });
  }
  const mem = {
    path,
    format: 'sparse' as const,
    ranges,
    warnings: [],
    reads: 0,
    read(addr: number, length: number): Uint8Array | undefined {
      mem.reads++;
      const out = new Uint8Array(length);
      for (let i = 0; i < length; ) {
        const p = phys.pages.get(Math.floor((addr + i) / 4096));
        if (!p) return undefined;
        const off = (addr + i) % 4096;
        const n = Math.min(4096 - off, length - i);
        out.set(p.subarray(off, off + n), i);
        i += n;
      }
      return out;
    },
    fileOffsetOf(addr: number): number | undefined {
      return phys.pages.has(Math.floor(addr / 4096)) ? addr : undefined;
    },
    close(): void {},
  };
  return mem;
}
