/**
 * The text parts dmarsift reads: how each is recognised (cheap shape tests of the first lines)
 * and which parser turns it into a Contribution. The order of TEXT_PARTS matters for sniffing:
 * the most specific shapes come first.
 */
import { looksLikeIommuRegset, parseIommuRegset } from '../decode/regset-text.js';
import { looksLikeRegistersJson, parseRegistersJson } from '../decode/registers-json.js';
import { InputError } from '../errors.js';
import type { Contribution } from '../model/contribution.js';
import type { ModelWarning, PartKind } from '../model/types.js';
import { looksLikeDebugfsDomain, parseDebugfsDomain } from '../text/debugfs-domain.js';
import { looksLikeDebugfsTranslation, parseDebugfsTranslation } from '../text/debugfs-translation.js';
import { looksLikeDmardump, parseDmardump } from '../text/dmardump.js';
import { looksLikeDmesg, parseDmesg } from '../text/dmesg.js';
import { looksLikeMemoryMap, parseMemoryMap } from '../text/memory-map.js';
import { looksLikeBridgeSysctl, looksLikePciInventory, parseBridgeSysctl, parsePciInventory } from '../text/pci-inventory.js';
import { looksLikeVmCommandLines, parseVmCommandLines } from '../text/vm-cmdlines.js';
import type { TextInput } from '../util/lines.js';
import { fileText, readHead, readText } from './read.js';
import type { Sniffed } from './sniff.js';

interface TextPart {
  kind: PartKind;
  format: string;
  looks: (text: string) => boolean;
}

const TEXT_PARTS: TextPart[] = [
  { kind: 'registers', format: 'iommu_regset', looks: looksLikeIommuRegset },
  { kind: 'registers', format: 'dmarsift-registers-json', looks: looksLikeRegistersJson },
  { kind: 'debugfs-translation', format: 'dmar_translation_struct', looks: looksLikeDebugfsTranslation },
  { kind: 'debugfs-domain', format: 'domain_translation_struct', looks: looksLikeDebugfsDomain },
  { kind: 'dmardump-text', format: 'dmardump', looks: looksLikeDmardump },
  { kind: 'dmesg', format: 'dmesg', looks: looksLikeDmesg },
  { kind: 'pci', format: 'pci-inventory', looks: looksLikePciInventory },
  { kind: 'bridges', format: 'sysctl dev.pcib', looks: looksLikeBridgeSysctl },
  { kind: 'vm-cmdlines', format: 'vm-cmdlines', looks: looksLikeVmCommandLines },
  { kind: 'memory-map', format: 'memory-map', looks: looksLikeMemoryMap },
];

export function sniffText(text: string): Sniffed | undefined {
  for (const p of TEXT_PARTS) if (p.looks(text)) return { kind: p.kind, format: p.format };
  return undefined;
}

const PARSERS: Partial<Record<PartKind, (text: string, part: string) => Contribution>> = {
  'debugfs-translation': parseDebugfsTranslation,
  'debugfs-domain': parseDebugfsDomain,
  'dmardump-text': parseDmardump,
  dmesg: parseDmesg,
  pci: parsePciInventory,
  bridges: parseBridgeSysctl,
  'vm-cmdlines': parseVmCommandLines,
  'memory-map': parseMemoryMap,
};

/**
 * Parse a text part of a known kind. `lenient`: return an empty contribution instead of an error
 * when the text holds nothing of that kind (a dmesg read again for its e820 lines).
 */
export function parseTextPart(kind: PartKind, text: string, part: string, lenient = false): Contribution {
  const parse = PARSERS[kind];
  if (!parse) throw new InputError(`no reader for part kind ${kind}`, { file: part });
  if (lenient) {
    try {
      return parse(text, part);
    } catch (e) {
      if (e instanceof InputError) return { warnings: [] };
      throw e;
    }
  }
  return parse(text, part);
}

export interface RegisterUnitText {
  name?: string;
  base: number;
  raw: Record<string, bigint>;
  line?: number;
}

export interface RegisterText {
  units: RegisterUnitText[];
  /** The readers' own warnings (lines not read, duplicates, keys not of the format), as capture warnings. */
  warnings: ModelWarning[];
}

/** Register JSON is read whole (its reader names the line of every value); it is small. */
const REGISTERS_JSON_LIMIT = 16 * 2 ** 20;

/** Register snapshots from iommu_regset text or dmarsift's register JSON. */
export function parseRegisterText(input: TextInput, part: string): RegisterText {
  const r = typeof input === 'string' && looksLikeRegistersJson(input) ? parseRegistersJson(input, part) : parseIommuRegset(input, part);
  return { units: r.units, warnings: r.warnings.map((w) => ({ message: w.message, source: { part, line: w.line } })) };
}

/** A register file: JSON (read whole, bounded) or iommu_regset text (read line by line). */
export function readRegisterFile(absPath: string, part: string): RegisterText {
  const head = new TextDecoder('utf-8', { fatal: false }).decode(readHead(absPath, 4096));
  if (looksLikeRegistersJson(head)) return parseRegisterText(readText(absPath, REGISTERS_JSON_LIMIT), part);
  return parseRegisterText(fileText(absPath), part);
}
