/**
 * A PhysicalMemory that reports how many bytes were read through it, for a progress display while
 * walking the tables of a big image. Reporting is the caller's business (the CLI draws on stderr).
 */
import type { PhysicalMemory } from './types.js';

/** Sum of the image's present bytes. */
export function presentBytes(mem: PhysicalMemory): number {
  if (mem.bytesPresent !== undefined) return mem.bytesPresent;
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
    get bytesPresent() {
      return mem.bytesPresent;
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
    // Keep the reader's allocation-free fast path: the walker reads every table page through it.
    ...(mem.readInto !== undefined
      ? {
          readInto(addr: number, dest: Uint8Array): boolean {
            const ok = mem.readInto!(addr, dest);
            if (ok) {
              total += dest.length;
              onRead(total);
            }
            return ok;
          },
        }
      : {}),
    ...(mem.readPages !== undefined
      ? {
          readPages(addrs: Float64Array, count: number, dest: Uint8Array, present: Uint8Array): void {
            mem.readPages!(addrs, count, dest, present);
            for (let s = 0; s < count; s++) total += present[s] * 4096;
            onRead(total);
          },
        }
      : {}),
    fileOffsetOf: (addr) => mem.fileOffsetOf(addr),
    close: () => mem.close(),
  };
}
