/**
 * A PhysicalMemory that reports how many bytes were read through it, for a progress display while
 * walking the tables of a big image. Reporting is the caller's business (the CLI draws on stderr).
 */
import type { PhysicalMemory } from './types.js';

/** Sum of the image's present bytes. */
export function presentBytes(mem: PhysicalMemory): number {
  let n = 0;
  const ranges = mem.ranges;
  for (let i = 0; i < ranges.length; i++) n += ranges[i].end - ranges[i].start;
  return n;
}

export function withReadProgress(mem: PhysicalMemory, onRead: (bytesRead: number) => void): PhysicalMemory {
  let total = 0;
  return {
    get path() {
      return mem.path;
    },
    get format() {
      return mem.format;
    },
    get ranges() {
      return mem.ranges;
    },
    get embeddedRegisters() {
      return mem.embeddedRegisters;
    },
    get warnings() {
      return mem.warnings;
    },
    read(addr, length) {
      const b = mem.read(addr, length);
      if (b !== undefined) {
        total += length;
        onRead(total);
      }
      return b;
    },
    fileOffsetOf: (addr) => mem.fileOffsetOf(addr),
    close: () => mem.close(),
  };
}
