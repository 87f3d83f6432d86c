/**
 * The text parts dmarsift reads: how each is recognised and which parser turns it into a
 * Contribution. The order of TEXT_PARTS matters for sniffing: the most specific shapes come first.
 *
 * Recognition is two steps, so that a README or notes file that merely mentions a word ("bhyve",
 * "DMAR:", "/proc/iomem") is not taken for a part: a cheap shape test of the first lines
 * (`looks`), then the part's own parser run over the sniffed head (`confirm`), which must find at
 * least one whole line of its format. A parser that finds a line of its format holding an
 * impossible value (an InputError other than "not recognised") confirms the kind: the loader
 * reports that error with its line.
 */
import { looksLikeIommuRegset, parseIommuRegset } from '../decode/regset-text.js';
import { looksLikeRegistersJson, parseRegistersJson } from '../decode/registers-json.js';
import { InputError } from '../errors.js';
import type { Contribution } from '../model/contribution.js';
import type { ModelWarning, PartKind } from '../model/types.js';
import { looksLikeDebugfsDomain, parseDebugfsDomain } from '../text/debugfs-domain.js';
import { looksLikeDebugfsTranslation, parseDebugfsTranslation } from '../text/debugfs-translation.js';
import { looksLikeDmardump, parseDmardump } from '../text/dmardump.js';
import { looksLikeDmesg, parseDmesg, parseDmesgDetails } from '../text/dmesg.js';
import { looksLikeInvalidationQueue, parseInvalidationQueue } from '../text/invalidation-queue.js';
import { irTranslationContribution, looksLikeIrTranslation } from '../text/ir-translation.js';
import { looksLikeMemoryMap, parseMemoryMap } from '../text/memory-map.js';
import { pciConfigContribution, looksLikeLspciHexDump, looksLikePciconfDump } from '../text/pci-config-dump.js';
import { looksLikeBridgeSysctl, looksLikePciInventory, parseBridgeSysctl, parsePciInventory } from '../text/pci-inventory.js';
import { looksLikeVmCommandLines, parseVmCommandLines } from '../text/vm-cmdlines.js';
import { NotRecognisedError, type TextInput } from '../util/lines.js';
import { fileText, readHead, readText } from './read.js';
import type { Sniffed } from './sniff.js';

interface TextPart {
  kind: PartKind;
  format: string;
  looks: (text: string) => boolean;
  /** Whether the head of a file that `looks` right holds at least one whole line of the format. */
  confirm: (head: string) => Confirmation;
}

type Confirmation = { ok: true } | { ok: false; why: string };

/** Anything a Contribution can carry but warnings. */
function hasFacts(c: Contribution): boolean {
  return Boolean(c.units?.length || c.domains?.length || c.devices?.length || c.bridges?.length || c.vms?.length || c.memoryMap?.length || c.faults?.length || c.pciConfig?.length);
}

/**
 * The parser's verdict on the head: an error saying nothing was recognised is a no; any other
 * InputError is a line of the format with a bad value (yes); a result must hold a fact.
 */
function byParsing(parse: (text: string) => Contribution | boolean, what: string): (head: string) => Confirmation {
  return (head) => {
    try {
      const r = parse(head);
      return (typeof r === 'boolean' ? r : hasFacts(r)) ? { ok: true } : { ok: false, why: `no line of ${what} in it` };
    } catch (e) {
      if (notRecognised(e)) return { ok: false, why: (e as Error).message };
      if (e instanceof InputError) return { ok: true };
      throw e;
    }
  };
}

/**
 * The "nothing in it is of my format" errors. The VM command-line reader (owned elsewhere) says
 * so with a plain InputError at line 1, "does not look like …".
 */
function notRecognised(e: unknown): boolean {
  return e instanceof NotRecognisedError || (e instanceof InputError && e.line === 1 && /^does not look like /.test(e.message));
}

/** An option on a command line (`-m`, `--foo`), also NUL-separated as in /proc/PID/cmdline. */
const OPTION_RE = /(?:^|[\s\0])-{1,2}[A-Za-z]/;
/** A line that starts a hypervisor with an option (after an optional PID column), or bhyve's process title. */
const PROGRAM_LINE_RE = /^[ \t]*(?:\d+[ \t]+)?(?:[^\s/]*\/)*(?:bhyve|vmrun\.sh|qemu-system-[\w.-]+|qemu-kvm|kvm)(?:[ \t]+|\0)-{1,2}[A-Za-z]|^[ \t]*(?:\d+[ \t]+)?bhyve: \S/m;

const TEXT_PARTS: TextPart[] = [
  { kind: 'registers', format: 'iommu_regset', looks: looksLikeIommuRegset, confirm: byParsing((t) => parseIommuRegset(t, 'sniff').units.length > 0, 'iommu_regset') },
  // Names its own format in its first lines: that is confident enough (its errors then name their line).
  { kind: 'registers', format: 'dmarsift-registers-json', looks: looksLikeRegistersJson, confirm: () => ({ ok: true }) },
  { kind: 'debugfs-translation', format: 'dmar_translation_struct', looks: looksLikeDebugfsTranslation, confirm: byParsing((t) => parseDebugfsTranslation(t, 'sniff'), 'dmar_translation_struct') },
  { kind: 'debugfs-domain', format: 'domain_translation_struct', looks: looksLikeDebugfsDomain, confirm: byParsing((t) => parseDebugfsDomain(t, 'sniff'), 'domain_translation_struct') },
  { kind: 'invalidation-queue', format: 'invalidation_queue', looks: looksLikeInvalidationQueue, confirm: byParsing((t) => parseInvalidationQueue(t, 'sniff'), 'an invalidation queue dump') },
  { kind: 'ir-translation', format: 'ir_translation_struct', looks: looksLikeIrTranslation, confirm: byParsing((t) => irTranslationContribution(t, 'sniff'), 'ir_translation_struct') },
  { kind: 'dmardump-text', format: 'dmardump', looks: looksLikeDmardump, confirm: byParsing((t) => parseDmardump(t, 'sniff'), 'dmardump output') },
  {
    kind: 'dmesg', format: 'dmesg', looks: looksLikeDmesg,
    // A kernel log: a DMAR line this reader knows (unit, fault, HAW, DRHD, RMRR), or timestamped lines.
    confirm: byParsing((t) => {
      const d = parseDmesgDetails(t, 'sniff');
      return d.recognised > 0 || d.timestamped >= 2;
    }, 'a kernel log'),
  },
  // Before the inventory: `lspci -x…` output starts each block with the device line an inventory has too.
  { kind: 'pci-config', format: 'lspci -x', looks: looksLikeLspciHexDump, confirm: byParsing((t) => pciConfigContribution(t, 'sniff'), 'lspci -x hex dump') },
  { kind: 'pci-config', format: 'pciconf -r', looks: looksLikePciconfDump, confirm: byParsing((t) => pciConfigContribution(t, 'sniff'), 'pciconf -r dump') },
  { kind: 'pci', format: 'pci-inventory', looks: looksLikePciInventory, confirm: byParsing((t) => parsePciInventory(t, 'sniff'), 'a PCI inventory') },
  { kind: 'bridges', format: 'sysctl dev.pcib', looks: looksLikeBridgeSysctl, confirm: byParsing((t) => parseBridgeSysctl(t, 'sniff'), 'sysctl dev.pcib output') },
  {
    kind: 'vm-cmdlines', format: 'vm-cmdlines', looks: looksLikeVmCommandLines,
    // A hypervisor started with options at the start of a line (also one its reader cannot use:
    // it then says why), a VM found on such a line, the title line bhyve gives its process, or a
    // `ps` listing (header first) that names none. A sentence that starts with "bhyve" is none.
    confirm: byParsing((t) => {
      const c = parseVmCommandLines(t, 'sniff');
      const lines = t.split('\n');
      const withOptions = (c.vms ?? []).some((vm) => vm.hypervisor === 'xen' || OPTION_RE.test(lines[(vm.source.line ?? 1) - 1] ?? ''));
      const first = lines.find((l) => l.trim() !== '') ?? '';
      return withOptions || PROGRAM_LINE_RE.test(t) || /^\s*(COMMAND|ARGS|CMD)\s*$/.test(first);
    }, 'VM command lines'),
  },
  { kind: 'memory-map', format: 'memory-map', looks: looksLikeMemoryMap, confirm: byParsing((t) => parseMemoryMap(t, 'sniff'), 'a memory map') },
];

export interface TextSniffed {
  sniffed?: Sniffed;
  /** Why the shapes that looked right at first were not taken (kind, reason). */
  rejected: { kind: PartKind; format: string; why: string }[];
}

/** Recognise a text part from its head (the first 64 KiB, ideally cut at a line end). */
export function recogniseText(head: string, only?: PartKind): TextSniffed {
  const rejected: TextSniffed['rejected'] = [];
  for (const p of TEXT_PARTS) {
    if (only !== undefined && p.kind !== only) continue;
    if (!p.looks(head)) continue;
    const c = p.confirm(head);
    if (c.ok) return { sniffed: { kind: p.kind, format: p.format }, rejected };
    rejected.push({ kind: p.kind, format: p.format, why: c.why });
  }
  return { rejected };
}

/** The kind of a text part, or undefined when it is none (see recogniseText). */
export function sniffText(text: string): Sniffed | undefined {
  return recogniseText(text).sniffed;
}

type Parser = (input: TextInput, part: string) => Contribution;

const PARSERS: Partial<Record<PartKind, Parser>> = {
  'debugfs-translation': parseDebugfsTranslation,
  'debugfs-domain': parseDebugfsDomain,
  'dmardump-text': parseDmardump,
  dmesg: parseDmesg,
  pci: parsePciInventory,
  bridges: parseBridgeSysctl,
  // These readers take the text whole (and bound their own lines).
  'vm-cmdlines': whole(parseVmCommandLines),
  'memory-map': parseMemoryMap,
  'invalidation-queue': whole(parseInvalidationQueue),
  'ir-translation': whole(irTranslationContribution),
  'pci-config': whole(pciConfigContribution),
};

/** VM command lines are read whole: a bound on their size (a host's `ps` output is far smaller). */
const VM_CMDLINES_LIMIT = 64 * 2 ** 20;

/** A reader of whole texts as a Parser (chunked input is joined, up to the size bound). */
function whole(parse: (text: string, part: string) => Contribution): Parser {
  return (input, part) => parse(typeof input === 'string' ? input : joined(input, part), part);
}

function joined(input: Exclude<TextInput, string>, part: string): string {
  const parts: string[] = [];
  let n = 0;
  for (const c of input.chunks()) {
    n += c.length;
    if (n > VM_CMDLINES_LIMIT) throw new InputError(`VM command lines of more than ${VM_CMDLINES_LIMIT} characters: not a VM listing`, { file: part });
    parts.push(c);
  }
  return parts.join('');
}

/** Parse a text part of a known kind. */
export function parseTextPart(kind: PartKind, input: TextInput, part: string): Contribution {
  const parse = PARSERS[kind];
  if (!parse) throw new InputError(`no reader for part kind ${kind}`, { file: part });
  return parse(input, part);
}

/** A text part's content for its parser: read in chunks as the parser goes (bounded memory). */
export function partText(kind: PartKind, absPath: string): TextInput {
  return kind === 'vm-cmdlines' ? readText(absPath, VM_CMDLINES_LIMIT) : fileText(absPath);
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
  return { units: r.units, warnings: r.warnings.map((w) => ({ message: w.message, source: w.line === undefined ? { part } : { part, line: w.line } })) };
}

/** A register file: JSON (read whole, bounded) or iommu_regset text (read line by line). */
export function readRegisterFile(absPath: string, part: string): RegisterText {
  const head = new TextDecoder('utf-8', { fatal: false }).decode(readHead(absPath, 4096));
  if (looksLikeRegistersJson(head)) return parseRegisterText(readText(absPath, REGISTERS_JSON_LIMIT), part);
  return parseRegisterText(fileText(absPath), part);
}
