/**
 * Format sniffing and the one entry point the capture loader uses. Raw images have no magic, so
 * an unrecognised file opens as raw; formats we recognise but do not read (FreeBSD minidumps,
 * makedumpfile's compressed and flattened kdump formats, FreeBSD textdumps) are refused with an
 * InputError naming the format and saying how to convert it.
 */
import { InputError, UsageError } from '../errors.js';
import { elfFromFile } from './elf.js';
import { BlockFile } from './file.js';
import { limeFromFile } from './lime.js';
import { checkBase, rawFromFile } from './raw.js';
import { hasSparseMagic, sparseFromFile } from './sparse.js';
import type { ImageFormat, PhysicalMemory } from './types.js';
import { hex } from '../util/hex.js';

/** Formats recognised by their magic that dmarsift does not read. */
export type UnsupportedFormat = 'minidump' | 'kdump-compressed' | 'kdump-flat' | 'freebsd-textdump' | 'freebsd-dump';
export type SniffedFormat = ImageFormat | UnsupportedFormat;

/** How many leading bytes `sniffImageFormat` wants (a FreeBSD dump header is 512 bytes). */
export const SNIFF_BYTES = 4096;
/** struct kerneldumpheader (sys/sys/kerneldump.h) is 512 bytes; the dump follows it. */
const KDH_SIZE = 512;

function startsWith(b: Uint8Array, text: string, at = 0): boolean {
  if (b.length < at + text.length) return false;
  for (let i = 0; i < text.length; i++) if (b[at + i] !== text.charCodeAt(i)) return false;
  return true;
}

const isElf = (b: Uint8Array, at = 0) => startsWith(b, '\x7fELF', at);
const isMinidump = (b: Uint8Array, at = 0) => startsWith(b, 'minidump FreeBSD/', at);
const isKernelDumpHeader = (b: Uint8Array) => startsWith(b, 'FreeBSD Kernel Dump\0') || startsWith(b, 'Cleared Kernel Dump\0');

/**
 * The image format from the first bytes of a file (give at least SNIFF_BYTES when there are
 * that many), or undefined when nothing is recognised (which may well be a raw image).
 */
export function sniffImageFormat(head: Uint8Array): SniffedFormat | undefined {
  if (isElf(head)) return 'elf';
  if (hasSparseMagic(head)) return 'sparse';
  // LIME_MAGIC 0x4C694D45 little-endian, then version 1.
  if (startsWith(head, 'EMiL') && head.length >= 8 && head[4] === 1 && head[5] === 0 && head[6] === 0 && head[7] === 0) return 'lime';
  if (isMinidump(head)) return 'minidump';
  if (startsWith(head, 'KDUMP   ') || startsWith(head, 'DISKDUMP')) return 'kdump-compressed';
  if (startsWith(head, 'makedumpfile\0')) return 'kdump-flat';
  if (startsWith(head, 'FreeBSD Text Dump\0')) return 'freebsd-textdump';
  if (isKernelDumpHeader(head)) {
    // A dump device read as is: the header, then a full dump (ELF) or a minidump.
    if (isElf(head, KDH_SIZE)) return 'elf';
    if (isMinidump(head, KDH_SIZE)) return 'minidump';
    return 'freebsd-dump';
  }
  return undefined;
}

/** The message for a recognised but unsupported format. */
export function unsupportedMessage(format: UnsupportedFormat, head: Uint8Array): string {
  switch (format) {
    case 'minidump': {
      const at = isMinidump(head) ? 0 : KDH_SIZE;
      let end = at;
      while (end < head.length && end < at + 24 && head[end] >= 0x20 && head[end] < 0x7f) end++;
      const magic = String.fromCharCode(...head.subarray(at, end));
      return `FreeBSD minidump ("${magic}") is not supported: it holds only kernel-mapped pages in its own bitmap format. ` +
        'Take a full dump instead (sysctl debug.minidump=0; savecore then writes an ELF core) or a dmarsift sparse dump';
    }
    case 'kdump-compressed':
      return 'makedumpfile compressed kdump format is out of scope; convert with `makedumpfile -E` to ELF';
    case 'kdump-flat':
      return 'makedumpfile flattened format is out of scope; restore it with `makedumpfile -R`, then convert with `makedumpfile -E` to ELF';
    case 'freebsd-textdump':
      return 'FreeBSD textdump ("FreeBSD Text Dump") holds ddb output, not memory: take a full dump (debug.minidump=0)';
    case 'freebsd-dump':
      return startsWith(head, 'Cleared Kernel Dump')
        ? 'FreeBSD kernel dump header says "Cleared Kernel Dump": savecore already cleared this dump, no memory follows'
        : 'FreeBSD kernel dump header ("FreeBSD Kernel Dump") followed by neither an ELF core nor a minidump (compressed or encrypted dump?): extract it with savecore(8)';
  }
}

export interface OpenOptions {
  /** Physical address of a raw image's first byte (page-aligned; a usage error for other formats). */
  base?: number;
  /** Skip sniffing and read the file as this format. */
  format?: ImageFormat;
}

const FORMAT_NAMES: Record<Exclude<ImageFormat, 'raw'>, string> = { elf: 'an ELF core', lime: 'a LiME image', sparse: 'a dmarsift sparse dump' };
const isImageFormat = (f: SniffedFormat): f is Exclude<ImageFormat, 'raw'> => f in FORMAT_NAMES;

/** Open a memory image of any supported format. Throws InputError (UsageError for a bad base). */
export function openMemoryImage(path: string, opts: OpenOptions = {}): PhysicalMemory {
  const base = checkBase(opts.base);
  const file = new BlockFile(path);
  try {
    if (file.size === 0) throw new InputError('empty file: expected a memory image', { file: path, offset: 0 });
    const head = file.read(0, Math.min(file.size, SNIFF_BYTES), 'image header').slice();
    const sniffed = sniffImageFormat(head);
    const format: SniffedFormat = opts.format ?? sniffed ?? 'raw';
    const warnings: string[] = [];
    if (opts.base !== undefined && format !== 'raw' && isImageFormat(format)) {
      throw new UsageError(`--base ${hex(base)} applies to raw images only: ${path} is ${FORMAT_NAMES[format]}, which records its own physical addresses`);
    }
    let mem: PhysicalMemory;
    switch (format) {
      case 'raw':
        return rawFromFile(file, base);
      case 'elf': {
        const origin = isKernelDumpHeader(head) && isElf(head, KDH_SIZE) ? KDH_SIZE : 0;
        if (origin) warnings.push('ELF core follows a 512-byte FreeBSD kerneldumpheader (a dump device read as is)');
        mem = elfFromFile(file, origin, warnings);
        return mem;
      }
      case 'lime':
        mem = limeFromFile(file);
        break;
      case 'sparse':
        mem = sparseFromFile(file);
        break;
      default:
        throw new InputError(unsupportedMessage(format, head), { file: path, offset: 0 });
    }
    (mem.warnings as string[]).unshift(...warnings);
    return mem;
  } catch (e) {
    file.close();
    throw e;
  }
}
