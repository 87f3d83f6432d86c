/**
 * Helpers for the hostile-input tests: a PhysicalMemory wrapper that counts every read (the work
 * bound the tests assert instead of a time), and a writer for a capture directory holding
 * hand-made translation structures, so the same hostile tables also go through the CLI.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { PhysicalMemory } from '../../src/image/types.js';
import { encodeDmar } from '../../src/synth/dmar-encode.js';
import type { PhysBuilder } from '../../src/synth/phys.js';
import { encodeRegistersJson } from '../../src/synth/registers-json-encode.js';
import { writeSparseDump } from '../../src/synth/sparse-writer.js';

export interface Counted extends PhysicalMemory {
  /** Calls of read/readInto, and bytes asked for. */
  reads: number;
  bytes: number;
}

/** Wrap `mem`, counting reads through both paths (read and the walker's readInto). */
export function counting(mem: PhysicalMemory): Counted {
  const c: Counted = {
    get path() { return mem.path; },
    get format() { return mem.format; },
    get ranges() { return mem.ranges; },
    get warnings() { return mem.warnings; },
    reads: 0,
    bytes: 0,
    read(addr, length) {
      c.reads++;
      c.bytes += length;
      return mem.read(addr, length);
    },
    fileOffsetOf: (addr) => mem.fileOffsetOf(addr),
    close: () => mem.close(),
  };
  if (mem.readInto) {
    const ri = mem.readInto.bind(mem);
    c.readInto = (addr, dest) => {
      c.reads++;
      c.bytes += dest.length;
      return ri(addr, dest);
    };
  }
  return c;
}

/** A new directory in the current test file's temporary directory (removed after the file: test/helpers/setup-tmp.ts). */
export function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'dmarsift-hostile-'));
}

/** CAP with SAGAW 39/48-bit, 2 MiB + 1 GiB pages, ND 6; ECAP with SC, DT, PT; SMTS when scalable. */
export const CAP = 0xd2078c406f0666n;
export const ECAP = 0xf050den;
const ECAP_SMTS = 1n << 43n;

/**
 * A capture directory: DMAR (one INCLUDE_PCI_ALL unit), registers with RTADDR = `root`
 * (translation on), the PhysBuilder's pages as a sparse dump. Returns the directory.
 */
export function writeCapture(phys: PhysBuilder, root: number, opts: { scalable?: boolean; dmar?: Uint8Array } = {}): string {
  const dir = tmpDir();
  fs.writeFileSync(path.join(dir, 'DMAR'), opts.dmar ?? encodeDmar({ haw: 46, flags: 1, drhd: [{ flags: 1, base: 0xfed90000 }] }));
  fs.writeFileSync(path.join(dir, 'registers.json'), encodeRegistersJson([{
    name: 'dmar0', base: 0xfed90000,
    registers: { VER: 0x10n, CAP, ECAP: opts.scalable ? ECAP | ECAP_SMTS : ECAP, GSTS: 0xc7000000n, RTADDR: BigInt(root) | (opts.scalable ? 1n << 10n : 0n), FSTS: 0n },
  }]));
  writeSparseDump(path.join(dir, 'memory.sparse'), phys.pages);
  return dir;
}
