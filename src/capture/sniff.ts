/**
 * Recognises a capture part by its content (magic numbers, text shapes confirmed by the part's own
 * parser: see text-parts.ts), reading only the first 64 KiB of the file. Content decides; a file's
 * name is used twice only:
 * - a raw image (which has no magic) is taken as memory only when its name says so (or the user
 *   names it with --memory);
 * - a file whose name says it is a part (`iommu_regset`, `DMAR`, `dmar_translation_struct`, …)
 *   but whose content is not recognised is still not read, but gets a warning saying why: it is
 *   never dropped in silence. Text with a stray NUL byte under such a name is read as that part
 *   (the parser then names the line it could not use).
 */
import * as path from 'node:path';
import { sniffImageFormat } from '../image/open.js';
import type { PartKind } from '../model/types.js';
import { readHead, statOrThrow } from './read.js';
import { recogniseText } from './text-parts.js';
import { hex } from '../util/hex.js';

export interface Sniffed {
  kind: PartKind;
  format?: string;
  note?: string;
  /** For an ignored file whose name says it is a part: why it was not read (a capture warning). */
  warning?: string;
}

const RAW_NAMES = /\.(raw|img|mem|bin|dd|lime|core|vmcore)$|^(vmcore(\.\d+)?|mem|memory)$/i;
const HEAD = 65536;
const BDF_NAME = /^[0-9a-f]{4}:[0-9a-f]{2}:[0-1][0-9a-f]\.[0-7]$/i;
/** `DDDD:BB:DD.F.config` / `.bin` (a sysfs config file copied under its function's name). */
const SYSFS_CONFIG_NAME = /^[0-9a-f]{4}:[0-9a-f]{2}:[0-1][0-9a-f]\.[0-7](?:\.config|\.bin)?$/i;

/**
 * Names that say which part a file is: the kernel's own file names (debugfs, ACPI tables) and the
 * names `dmarsift capture` and the capture scripts write.
 */
const NAME_KINDS: [RegExp, PartKind][] = [
  [/^DMAR(\.(dat|bin|aml))?$/i, 'dmar'],
  [/^(iommu_regset|registers\.json|intel-iommu\.json)$/, 'registers'],
  [/^dmar_translation_struct$/, 'debugfs-translation'],
  [/^domain_translation_struct$/, 'debugfs-domain'],
  [/^dmardump(\.txt)?$/, 'dmardump-text'],
  [/^(dmesg(\.txt|\.log)?|kern\.log)$/, 'dmesg'],
  [/^(pci-config|lspci-x+|pciconf-r)(\.txt)?$/, 'pci-config'],
  [/^(lspci|pciconf[\w-]*|pci-sysfs)(\.txt)?$/, 'pci'],
  [/^(ps-args(\.txt)?|qemu-cmdline(\.txt)?|\d+\.cmdline|cmdline)$/, 'vm-cmdlines'],
  [/^(iomem|smap|e820)(\.txt)?$/, 'memory-map'],
];

/** The part kind a file's name claims, if any. */
function kindFromName(file: string): PartKind | undefined {
  const base = path.basename(file);
  return NAME_KINDS.find(([re]) => re.test(base))?.[1];
}

const decode = (b: Uint8Array): string => new TextDecoder('utf-8', { fatal: false }).decode(b);

/** The head as text, cut at its last line end when the file goes on (no half line to judge). */
function headText(head: Uint8Array): string {
  const text = decode(head);
  if (head.length < HEAD) return text;
  const cut = text.lastIndexOf('\n');
  return cut > 0 ? text.slice(0, cut + 1) : text;
}

export function sniffPart(file: string): Sniffed {
  const head = readHead(file, HEAD);
  const named = kindFromName(file);
  const base = path.basename(file);
  /** Not read: ignored, and a warning when the name said it was a part. */
  const ignored = (note: string, why = note): Sniffed =>
    named === undefined ? { kind: 'ignored', note } : { kind: 'ignored', note, warning: `${base} is named like a ${named} part, but ${why}: not read` };

  if (head.length === 0) return ignored('empty file', 'it is empty');
  // Images first: a sparse dump's magic "DMARSIFT-SPARSE" also starts with "DMAR".
  const image = sniffImageFormat(head);
  if (image !== undefined) return { kind: 'memory', format: image };
  if (head.length >= 4 && head[0] === 0x44 && head[1] === 0x4d && head[2] === 0x41 && head[3] === 0x52) return { kind: 'dmar', format: 'acpi' };
  if (named === 'dmar') return ignored('no ACPI table signature', 'it does not start with the ACPI table signature "DMAR"');
  // /proc/PID/cmdline: the arguments separated (and ended) by NUL bytes, otherwise plain text.
  if (looksNulSeparatedText(head)) {
    const r = recogniseText(headText(head), 'vm-cmdlines');
    if (r.sniffed) return { ...r.sniffed, format: '/proc/PID/cmdline' };
  }
  const nul = head.indexOf(0);
  if (looksBinary(head)) {
    // Text with a stray NUL (or a few odd bytes) under a text part's name: read it as that part.
    if (named !== undefined && named !== 'memory' && mostlyText(head)) {
      const r = recogniseText(headText(head), named);
      if (r.sniffed) return { ...r.sniffed, note: nul >= 0 ? `binary bytes in text (a NUL at byte ${hex(nul)})` : 'control bytes in text' };
    }
    const size = statOrThrow(file).size;
    // A copy of /sys/bus/pci/devices/DDDD:BB:DD.F/config: binary, named by its function.
    if (SYSFS_CONFIG_NAME.test(base) || (base === 'config' && BDF_NAME.test(path.basename(path.dirname(file))))) {
      if (size >= 64 && size <= 4096) return { kind: 'pci-config', format: 'sysfs' };
    }
    if (RAW_NAMES.test(base) && size >= 4096) return { kind: 'memory', format: 'raw' };
    return ignored(
      'binary file of no known format (name a raw memory image with --memory)',
      `it holds binary data${nul >= 0 ? ` (a NUL byte at offset ${hex(nul)})` : ''}, not ${named === undefined ? 'text' : `the text of that part`}`,
    );
  }
  const r = recogniseText(headText(head));
  if (r.sniffed) return r.sniffed;
  const looked = r.rejected.map((x) => `${x.format}: ${x.why}`).join('; ');
  return ignored(
    looked === '' ? 'text that is no known capture part' : `text that is no capture part (${looked})`,
    `its text is not recognised as one${looked === '' ? '' : ` (${looked})`}`,
  );
}

/** NUL bytes only as separators between printable runs, no other control byte but TAB/CR/LF. */
function looksNulSeparatedText(head: Uint8Array): boolean {
  const n = Math.min(head.length, 8192);
  let nul = 0;
  let run = 0;
  for (let i = 0; i < n; i++) {
    const b = head[i];
    if (b === 0) {
      // A few in a row are empty arguments (`-append ""`); a longer run of zeros is binary.
      if (i === 0 || ++run > 4) return false;
      nul++;
      continue;
    }
    run = 0;
    if ((b < 32 && b !== 9 && b !== 10 && b !== 13) || b === 0x7f) return false;
  }
  return nul > 0;
}

/** Binary content: a NUL byte, or more than one byte in 20 a control character (of the first 8 KiB). */
export function looksBinary(head: Uint8Array): boolean {
  const n = Math.min(head.length, 8192);
  let odd = 0;
  for (let i = 0; i < n; i++) {
    const b = head[i];
    if (b === 0) return true;
    if (b < 9 || (b > 13 && b < 32)) odd++;
  }
  return odd > n / 20;
}

/** Text with at most a few stray control bytes (one in a thousand). */
function mostlyText(head: Uint8Array): boolean {
  let odd = 0;
  for (let i = 0; i < head.length; i++) {
    const b = head[i];
    if (b < 9 || (b > 13 && b < 32) || b === 0x7f) odd++;
  }
  return odd <= Math.max(1, head.length / 1000);
}
