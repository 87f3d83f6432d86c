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

/** The properties of a PhysicalMemory that are values, not methods. */
type MemoryFacts = { [K in keyof PhysicalMemory]-?: NonNullable<PhysicalMemory[K]> extends (...args: never[]) => unknown ? never : K }[keyof PhysicalMemory];

/**
 * What the wrapper reads through from the image as it is. The `satisfies` below fails to compile
 * when PhysicalMemory gains a fact this list lacks: a wrapper that dropped one (it once dropped
 * `missing`, so the lost pages of a cut-short image over 1 GiB read as holes) is a compile error.
 */
const FACTS = ['path', 'format', 'ranges', 'bytesPresent', 'embeddedRegisters', 'warnings', 'missing'] as const satisfies readonly MemoryFacts[];
type Unlisted = Exclude<MemoryFacts, (typeof FACTS)[number]>;
const allFactsListed: [Unlisted] extends [never] ? true : Unlisted = true;
void allFactsListed;

export function withReadProgress(mem: PhysicalMemory, onRead: (bytesRead: number) => void): PhysicalMemory {
  let total = 0;
  const counting: Pick<PhysicalMemory, 'read' | 'readInto' | 'readPages' | 'fileOffsetOf' | 'close'> = {
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
  // The facts are read through when asked (a reader may compute them, e.g. `ranges`, lazily).
  for (const k of FACTS) Object.defineProperty(counting, k, { get: () => mem[k], enumerable: true });
  return counting as PhysicalMemory;
}
