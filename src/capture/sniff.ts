/**
 * Recognises a capture part by its content (magic numbers, text shapes), reading only the first
 * 64 KiB of the file. File names are never needed, though a raw image (which has no magic) is
 * taken as memory only when its name says so or the user names it with --memory.
 */
import * as path from 'node:path';
import { sniffImageFormat } from '../image/open.js';
import type { PartKind } from '../model/types.js';
import { readHead, statOrThrow } from './read.js';
import { looksLikeVmCommandLines } from '../text/vm-cmdlines.js';
import { sniffText } from './text-parts.js';

export interface Sniffed {
  kind: PartKind;
  format?: string;
  note?: string;
}

const RAW_NAMES = /\.(raw|img|mem|bin|dd|lime|core|vmcore)$|^(vmcore(\.\d+)?|mem|memory)$/i;

export function sniffPart(file: string): Sniffed {
  const head = readHead(file);
  if (head.length === 0) return { kind: 'ignored', note: 'empty file' };
  // Images first: a sparse dump's magic "DMARSIFT-SPARSE" also starts with "DMAR".
  const image = sniffImageFormat(head);
  if (image !== undefined) return { kind: 'memory', format: image };
  if (head.length >= 4 && head[0] === 0x44 && head[1] === 0x4d && head[2] === 0x41 && head[3] === 0x52) return { kind: 'dmar', format: 'acpi' };
  // /proc/PID/cmdline: the arguments separated (and ended) by NUL bytes, otherwise plain text.
  if (looksNulSeparatedText(head)) {
    const text = new TextDecoder('utf-8', { fatal: false }).decode(head);
    if (looksLikeVmCommandLines(text)) return { kind: 'vm-cmdlines', format: '/proc/PID/cmdline' };
  }
  if (looksBinary(head)) {
    const size = statOrThrow(file).size;
    if (RAW_NAMES.test(path.basename(file)) && size >= 4096) return { kind: 'memory', format: 'raw' };
    return { kind: 'ignored', note: 'binary file of no known format (name a raw memory image with --memory)' };
  }
  const text = new TextDecoder('utf-8', { fatal: false }).decode(head);
  const t = sniffText(text);
  if (t) return t;
  return { kind: 'ignored', note: 'text that is no known capture part' };
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

function looksBinary(head: Uint8Array): boolean {
  const n = Math.min(head.length, 8192);
  let odd = 0;
  for (let i = 0; i < n; i++) {
    const b = head[i];
    if (b === 0) return true;
    if (b < 9 || (b > 13 && b < 32)) odd++;
  }
  return odd > n / 20;
}
