/**
 * ELF64 little-endian core files (ET_CORE): QEMU `dump-guest-memory`, Linux /proc/vmcore
 * (and `makedumpfile -E`), FreeBSD full dumps (debug.minidump=0) as written by savecore. Physical
 * memory comes from the PT_LOAD program headers, mapped by p_paddr — both QEMU and Linux put the
 * physical address there (QEMU leaves p_vaddr 0), so p_vaddr is never consulted.
 *
 * Choices made here:
 * - ELF semantics for p_memsz > p_filesz: the tail past p_filesz is present and reads as zeros
 *   (that is what a loader would put there; QEMU and Linux always write p_filesz = p_memsz).
 * - A segment whose file bytes run past the end of the file is clipped to the bytes that are
 *   there, with a warning (a dump cut short still holds its earlier pages); its zero tail is
 *   dropped too, since the missing bytes were data, not zeros. The lost range is recorded in
 *   `missing`: unknown, not absent.
 * - A core whose PT_LOADs leave no memory at all (none, all beyond 2^53, all past the end of the
 *   file) is an InputError: decoding it would call every table absent when none could be read.
 * - Overlapping physical ranges: warning; the segment earlier in the program header table wins
 *   (Linux vmcores repeat the kernel text inside a System RAM segment).
 * Only the ELF header and program headers are read while opening.
 */
import { Parser } from 'binary-parser';
import { InputError } from '../errors.js';
import { BlockFile } from './file.js';
import { missingRanges, resolveOverlaps, SegmentedMemory, type CandidateSegment } from './segments.js';
import type { PhysicalMemory, PhysRange } from './types.js';
import { hex } from '../util/hex.js';

const EHDR_SIZE = 64;
const PHDR_SIZE = 56;
const SHDR_SIZE = 64;
const ET_CORE = 4;
const PT_LOAD = 1;
const PN_XNUM = 0xffff;
const MAX = BigInt(Number.MAX_SAFE_INTEGER);

interface Elf64Ehdr {
  e_type: number;
  e_machine: number;
  e_version: number;
  e_entry: bigint;
  e_phoff: bigint;
  e_shoff: bigint;
  e_flags: number;
  e_ehsize: number;
  e_phentsize: number;
  e_phnum: number;
  e_shentsize: number;
  e_shnum: number;
  e_shstrndx: number;
}

interface Elf64Phdr {
  p_type: number;
  p_flags: number;
  p_offset: bigint;
  p_vaddr: bigint;
  p_paddr: bigint;
  p_filesz: bigint;
  p_memsz: bigint;
  p_align: bigint;
}

// Fields after e_ident; e_ident itself is checked by hand first (class and byte order decide
// whether these little-endian layouts apply at all).
const ehdrParser = new Parser()
  .endianness('little')
  .seek(16)
  .uint16('e_type')
  .uint16('e_machine')
  .uint32('e_version')
  .uint64('e_entry')
  .uint64('e_phoff')
  .uint64('e_shoff')
  .uint32('e_flags')
  .uint16('e_ehsize')
  .uint16('e_phentsize')
  .uint16('e_phnum')
  .uint16('e_shentsize')
  .uint16('e_shnum')
  .uint16('e_shstrndx');

const phdrParser = new Parser()
  .endianness('little')
  .uint32('p_type')
  .uint32('p_flags')
  .uint64('p_offset')
  .uint64('p_vaddr')
  .uint64('p_paddr')
  .uint64('p_filesz')
  .uint64('p_memsz')
  .uint64('p_align');

const ET_NAMES: Record<number, string> = { 0: 'ET_NONE', 1: 'ET_REL (object file)', 2: 'ET_EXEC (executable)', 3: 'ET_DYN (shared object or PIE)' };

/** Open an ELF core at `path`. */
export function openElfImage(path: string): PhysicalMemory {
  const file = new BlockFile(path);
  try {
    return elfFromFile(file);
  } catch (e) {
    file.close();
    throw e;
  }
}

/**
 * An ELF core over an already open file (takes ownership of `file` on success). `origin` is the
 * file offset of the ELF header: 0, or past a leading FreeBSD kerneldumpheader; every ELF file
 * offset is relative to it.
 */
export function elfFromFile(file: BlockFile, origin = 0, warnings: string[] = []): PhysicalMemory {
  const where = (offset: number) => ({ file: file.path, offset });
  if (file.size - origin < 16) throw new InputError(`truncated ELF header: ${Math.max(0, file.size - origin)} bytes, need 64`, where(origin));
  const ident = file.read(origin, 16, 'ELF identification');
  if (ident[0] !== 0x7f || ident[1] !== 0x45 || ident[2] !== 0x4c || ident[3] !== 0x46) {
    throw new InputError('not an ELF file (expected magic 7f 45 4c 46 "\\x7fELF")', where(origin));
  }
  if (ident[4] === 1) throw new InputError('ELF32 cores are not supported (need ELF64: dump a 64-bit guest or host)', where(origin + 4));
  if (ident[4] !== 2) throw new InputError(`unknown ELF class ${ident[4]} (expected 2, ELFCLASS64)`, where(origin + 4));
  if (ident[5] === 2) throw new InputError('big-endian ELF cores are not supported (VT-d hosts are little-endian x86)', where(origin + 5));
  if (ident[5] !== 1) throw new InputError(`unknown ELF data encoding ${ident[5]} (expected 1, little-endian)`, where(origin + 5));
  if (file.size - origin < EHDR_SIZE) throw new InputError(`truncated ELF header: ${file.size - origin} bytes, need 64`, where(origin));

  const eh = ehdrParser.parse(file.read(origin, EHDR_SIZE, 'ELF header')) as Elf64Ehdr;
  if (eh.e_type !== ET_CORE) {
    throw new InputError(`ELF file is not a core dump: e_type ${eh.e_type} ${ET_NAMES[eh.e_type] ?? ''}`.trimEnd() + ' (expected 4, ET_CORE)', where(origin + 16));
  }
  // A memory image with no memory in it is no memory image: decoding it would report every table
  // as absent when none could be read.
  if (eh.e_phoff === 0n || eh.e_phnum === 0) throw new InputError('ELF core has no program headers: no memory in it', where(origin + (eh.e_phoff === 0n ? 32 : 56)));
  if (eh.e_phentsize < PHDR_SIZE) throw new InputError(`e_phentsize ${eh.e_phentsize} is smaller than an Elf64_Phdr (56 bytes)`, where(origin + 54));

  let phnum = eh.e_phnum;
  if (phnum === PN_XNUM) {
    // More than 65534 headers: the real count is section header 0's sh_info (QEMU does this
    // for guests with many memory blocks).
    if (eh.e_shoff === 0n || eh.e_shoff > MAX || origin + Number(eh.e_shoff) + SHDR_SIZE > file.size) {
      throw new InputError('e_phnum is PN_XNUM (0xffff) but section header 0, which holds the real count, is not in the file', where(origin + 40));
    }
    const sh0 = file.read(origin + Number(eh.e_shoff), SHDR_SIZE, 'section header 0');
    phnum = new DataView(sh0.buffer, sh0.byteOffset, sh0.byteLength).getUint32(44, true);
  }
  if (eh.e_phoff > MAX) throw new InputError(`e_phoff ${hex(eh.e_phoff)} is past the end of the file`, where(origin + 32));
  const phoff = origin + Number(eh.e_phoff);
  const tableEnd = phoff + phnum * eh.e_phentsize;
  if (tableEnd > file.size) {
    throw new InputError(`program header table (${phnum} × ${eh.e_phentsize} bytes at ${hex(BigInt(origin) + eh.e_phoff)}) runs past the end of the file at ${hex(file.size)}`, where(phoff));
  }

  const candidates: CandidateSegment[] = [];
  /** Declared physical bytes the file does not hold (segments cut short). */
  const lost: PhysRange[] = [];
  /** The first PT_LOAD refused whole, and why (for the error when none is usable). */
  let refused: { at: number; why: string } | undefined;
  let loads = 0;
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * eh.e_phentsize;
    const ph = phdrParser.parse(file.read(at, PHDR_SIZE, `program header ${i}`)) as Elf64Phdr;
    if (ph.p_type !== PT_LOAD || ph.p_memsz === 0n) continue;
    loads++;
    const label = `PT_LOAD #${i} (header at byte ${hex(at)})`;
    let filesz = ph.p_filesz;
    if (filesz > ph.p_memsz) {
      warnings.push(`${label}: p_filesz ${hex(filesz)} exceeds p_memsz ${hex(ph.p_memsz)}; using p_memsz`);
      filesz = ph.p_memsz;
    }
    if (ph.p_paddr + ph.p_memsz > MAX) {
      const why = `${label}: physical range ${hex(ph.p_paddr)}+${hex(ph.p_memsz)} is beyond any physical address`;
      warnings.push(`${why}; segment ignored`);
      refused ??= { at, why };
      continue;
    }
    const start = Number(ph.p_paddr);
    const memsz = Number(ph.p_memsz);
    const fsz = Number(filesz);
    const fileStart = ph.p_offset > MAX ? Infinity : origin + Number(ph.p_offset);
    if (fsz > 0 && fileStart + fsz > file.size) {
      const have = Math.max(0, file.size - fileStart);
      const why = `${label}: file bytes ${hex(ph.p_offset)}+${hex(fsz)} run past the end of the file at ${hex(file.size)}`;
      warnings.push(
        `${why}; ` +
          (have > 0
            ? `keeping the first ${hex(have)} bytes (physical ${hex(start)}-${hex(start + have - 1)}); ` +
              `physical ${hex(start + have)}-${hex(start + memsz - 1)} is missing (unknown, not absent)`
            : `segment ignored; physical ${hex(start)}-${hex(start + memsz - 1)} is missing (unknown, not absent)`),
      );
      if (have > 0) candidates.push({ start, end: start + have, fileOffset: fileStart, fileEnd: start + have, label });
      else refused ??= { at, why };
      // The zero tail past p_filesz goes too: it follows bytes that were lost.
      lost.push({ start: start + have, end: start + memsz, fileOffset: fileStart + have });
      continue;
    }
    candidates.push({ start, end: start + memsz, fileOffset: fsz > 0 ? fileStart : 0, fileEnd: start + fsz, label });
  }
  if (candidates.length === 0) {
    // Every PT_LOAD with bytes either becomes a candidate or is refused.
    if (!refused) throw new InputError(`ELF core has no PT_LOAD segment (${phnum} program headers): no memory in it`, where(phoff));
    throw new InputError(`ELF core has no usable PT_LOAD segment (${loads} refused), so no memory in it: ${refused.why}`, where(refused.at));
  }
  const segments = resolveOverlaps(candidates, warnings);
  return new SegmentedMemory(file, 'elf', segments, warnings, missingRanges(lost, segments));
}
