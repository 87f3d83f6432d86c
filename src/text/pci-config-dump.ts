/**
 * Configuration-space dumps → raw bytes per PCI function (decoded by src/decode/pci-config.ts).
 *
 * - `lspci -x` / `-xxx` / `-xxxx` (pciutils lspci.c `show_hex_dump`): a device line starting with
 *   the address (`BB:DD.F …`, or `DDDD:BB:DD.F …` with -D or on multi-domain hosts), then rows
 *   `%02x:` + 16 × ` %02x` (offsets 100: to ff0: with -xxxx). 64 bytes (-x, or any -x without root),
 *   128 (CardBus header), 256 (-xxx) or 4096 (-xxxx, when the function has extended space). -v
 *   lines (indented with a tab) may sit between the device line and its rows.
 * - FreeBSD `pciconf -r SELECTOR START:END` (usr.sbin/pciconf/pciconf.c `readit`): no device line
 *   of its own, so a capture writes one comment line naming the command before its output:
 *       # pciconf -r pci0:3:0:0 0:0xfff
 *       0000 8086 ...                     (values: 4 × %08x per line by default, 8 × %04x with -h,
 *                                          16 × %02x with -b; older releases print 0x%08x)
 *   A second block for the same selector whose START is where the first one stopped continues it
 *   (read 0:0xff, then 0x100:0xfff for a PCIe function).
 * - sysfs `/sys/bus/pci/devices/DDDD:BB:DD.F/config`: the bytes themselves; the address is the
 *   directory's name (or the file's own name, `DDDD:BB:DD.F` or `DDDD:BB:DD.F.config`).
 *
 * Every line is either used or named in a warning (file and line); a function's bytes stop at
 * 4096, and at most MAX_FUNCTIONS functions are kept.
 */
import type { Contribution, PciConfigSpace } from '../model/contribution.js';
import type { ModelWarning, Source } from '../model/types.js';
import { bdfKey, formatBdf, fromSlotFunc, type Bdf } from '../util/bdf.js';
import { LineWarnings, textLines, type Line } from './lines.js';
import { hex, hexInMessage } from '../util/hex.js';

export const MAX_CONFIG_BYTES = 4096;
export const MAX_FUNCTIONS = 16384;
/** Less than the standard header is nothing to decode. */
const MIN_CONFIG_BYTES = 64;
const MAX_LINE_CHARS = 4096;
/** Sizes a full read gives: header only (64), CardBus header (128), conventional (256), PCIe (4096). */
const USUAL_SIZES = new Set([64, 128, 256, 4096]);

export interface ConfigDump {
  bdf: Bdf;
  /** Configuration space from offset 0. */
  bytes: Uint8Array;
  /** The device line (text) or offset 0 of the file (sysfs). */
  source: Source;
}

export interface ConfigDumps {
  functions: ConfigDump[];
  warnings: ModelWarning[];
}

const BDF_TEXT = /^(?:([0-9a-f]{4,8}):)?([0-9a-f]{2}):([0-9a-f]{2})\.([0-7])$/i;

/** `DDDD:BB:DD.F` / `BB:DD.F` (hex, as lspci and sysfs print it), or a reason it is none. */
function bdfOf(text: string): Bdf | string {
  const m = BDF_TEXT.exec(text);
  if (!m) return `${JSON.stringify(text)} is no PCI address`;
  const segment = m[1] === undefined ? 0 : parseInt(m[1], 16);
  if (segment > 0xffff) return `PCI domain ${m[1]} is no VT-d segment (16 bits; VMD-style domains are not behind a DMAR unit)`;
  const slot = parseInt(m[3], 16);
  if (slot > 31) return `device number 0x${m[3]} in ${text} is beyond 0x1f`;
  return fromSlotFunc(segment, parseInt(m[2], 16), slot, Number(m[4]));
}


/** Collects functions, refusing duplicates and more than MAX_FUNCTIONS. */
class Functions {
  readonly list: ConfigDump[] = [];
  private readonly seen = new Set<number>();
  private full = false;
  constructor(private readonly warn: LineWarnings, private readonly part: string) {}

  /** The bytes read for one function (a device block of the dump starting at `line`). */
  addBlock(b: { bdf: Bdf; line: number; buf: ByteBuffer }, what: string): void {
    this.add({ bdf: b.bdf, bytes: b.buf.bytes(), source: { part: this.part, line: b.line } }, what);
  }

  add(d: ConfigDump, what: string): void {
    const line = d.source.line ?? 0;
    if (d.bytes.length === 0) {
      this.warn.warn(`${formatBdf(d.bdf)}: no configuration bytes in the ${what}`, line);
      return;
    }
    if (d.bytes.length < MIN_CONFIG_BYTES) {
      this.warn.warn(`${formatBdf(d.bdf)}: only ${d.bytes.length} bytes, less than the 64-byte header: not used`, line);
      return;
    }
    if (this.seen.has(bdfKey(d.bdf))) {
      this.warn.warn(`${formatBdf(d.bdf)} appears again; the first dump is kept`, line);
      return;
    }
    if (this.list.length >= MAX_FUNCTIONS) {
      if (!this.full) this.warn.warn(`more than ${MAX_FUNCTIONS} functions: the rest are ignored`, line);
      this.full = true;
      return;
    }
    if (!USUAL_SIZES.has(d.bytes.length)) {
      this.warn.warn(`${formatBdf(d.bdf)}: ${d.bytes.length} bytes of configuration space (a full read gives 64, 128, 256 or 4096)`, line);
    }
    this.seen.add(bdfKey(d.bdf));
    this.list.push(d);
  }
}

/** The lines of a dump, but those longer than any line `tool` prints (a warning each). */
function* dumpLines(text: string, warn: LineWarnings, tool: string): Generator<Line> {
  for (const l of textLines(text)) {
    if (l.text.length > MAX_LINE_CHARS) warn.warn(`line of ${l.text.length} characters is no ${tool} output, skipped`, l.no);
    else yield l;
  }
}

/** Bytes of one function, appended row by row. */
class ByteBuffer {
  private buf = new Uint8Array(256);
  length = 0;
  push(b: number): void {
    if (this.length === this.buf.length) {
      const bigger = new Uint8Array(Math.min(MAX_CONFIG_BYTES, this.buf.length * 2));
      bigger.set(this.buf);
      this.buf = bigger;
    }
    this.buf[this.length++] = b;
  }
  bytes(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

// ─── lspci ────────────────────────────────────────────────────────────────────────────────────

const LSPCI_DEVICE_RE = /^((?:[0-9a-f]{4,8}:)?[0-9a-f]{2}:[0-9a-f]{2}\.[0-7])(?:\s|$)/i;
const LSPCI_ROW_RE = /^([0-9a-f]{2,4}):((?: [0-9a-f]{2}){1,16})\s*$/i;
const LSPCI_NO_ACCESS = /^WARNING: Cannot show hex-dump of the config space/;

export function looksLikeLspciHexDump(text: string): boolean {
  const head = text.slice(0, 8192).split('\n', 40);
  return head.some((l) => LSPCI_DEVICE_RE.test(l)) && head.some((l) => /^00: [0-9a-f]{2}( [0-9a-f]{2}){15}\s*$/i.test(l));
}

export function parseLspciHexDump(text: string, part: string): ConfigDumps {
  const warn = new LineWarnings(part);
  const out = new Functions(warn, part);
  let cur: { bdf: Bdf; line: number; buf: ByteBuffer; broken: boolean } | undefined;
  let detailLines = 0;
  let firstDetail = 0;

  const finish = (): void => {
    if (cur === undefined) return;
    out.addBlock(cur, 'lspci dump');
    cur = undefined;
  };

  for (const l of dumpLines(text, warn, 'lspci')) {
    const t = l.text;
    if (t.trim() === '') {
      finish();
      continue;
    }
    const row = LSPCI_ROW_RE.exec(t);
    if (row) {
      lspciRow(row, l, cur, warn);
      continue;
    }
    const dev = LSPCI_DEVICE_RE.exec(t);
    if (dev) {
      finish();
      const bdf = bdfOf(dev[1]);
      if (typeof bdf === 'string') warn.warn(`${bdf}: this device's rows are skipped`, l.no);
      else cur = { bdf, line: l.no, buf: new ByteBuffer(), broken: false };
      continue;
    }
    if (t.startsWith('\t')) {
      if (detailLines++ === 0) firstDetail = l.no; // lspci -v/-vv details: decoded from the bytes instead
      continue;
    }
    if (LSPCI_NO_ACCESS.test(t)) {
      warn.warn(`lspci could not read the configuration space${cur ? ` of ${formatBdf(cur.bdf)}` : ''}`, l.no);
      continue;
    }
    warn.unrecognised('lspci -x output', l);
  }
  finish();
  if (detailLines > 0) warn.warn(`${detailLines} lspci -v detail lines (tab-indented, the first here) not used: the bytes are decoded instead`, firstDetail);
  return { functions: out.list, warnings: warn.done() };
}

function lspciRow(m: RegExpExecArray, l: Line, cur: { bdf: Bdf; buf: ByteBuffer; broken: boolean } | undefined, warn: LineWarnings): void {
  if (cur === undefined) {
    warn.warn('hex row before any device line, skipped', l.no);
    return;
  }
  if (cur.broken) return; // already warned: the rows after a gap cannot be placed
  const offset = parseInt(m[1], 16);
  const values = m[2].trim().split(' ').map((h) => parseInt(h, 16));
  if (offset !== cur.buf.length) {
    warn.warn(`${formatBdf(cur.bdf)}: row at 0x${m[1]} where ${hex(cur.buf.length)} was due; the rest of this device is skipped`, l.no);
    cur.broken = true;
    return;
  }
  if (offset + values.length > MAX_CONFIG_BYTES) {
    warn.warn(`${formatBdf(cur.bdf)}: row at 0x${m[1]} is beyond the 4096 bytes of configuration space, skipped`, l.no);
    cur.broken = true;
    return;
  }
  if (values.length !== 16) warn.warn(`${formatBdf(cur.bdf)}: row at 0x${m[1]} has ${values.length} bytes, not 16`, l.no);
  for (const v of values) cur.buf.push(v);
}

// ─── FreeBSD pciconf -r ───────────────────────────────────────────────────────────────────────

/** pciconf takes its options through getopt ("abchlrwv"): `-r -h`, `-rh`, `-h -r` are one read;
 * -b wins over -h (`byte ? 1 : isshort ? 2 : 4`). Read mode without list/write/attach mode. */
const PCICONF_HEADER_RE = /^#\s*pciconf\s+((?:-[bchrv]*r[bchrv]*\s+)(?:-[bchrv]+\s+)*|(?:-[bchv]+\s+)+-[bchrv]*r[bchrv]*\s+(?:-[bchrv]+\s+)*)(\S+)\s+(\S+)\s*$/;

function pciconfWidth(options: string): 1 | 2 | 4 {
  return options.includes('b') ? 1 : options.includes('h') ? 2 : 4;
}
/** Whitespace-separated hex values. Each token must start after whitespace: a nested `(hex+\s*)+`
 * backtracks exponentially on a long run of hex digits that ends badly. */
const PCICONF_DATA_RE = /^\s*(?:0x)?[0-9a-f]+(?:\s+(?:0x)?[0-9a-f]+)*\s*$/i;
const NUMBER_RE = /^(0x[0-9a-f]+|0[0-7]*|[1-9][0-9]*)$/i;

export function looksLikePciconfDump(text: string): boolean {
  return text.slice(0, 8192).split('\n', 40).some((l) => PCICONF_HEADER_RE.test(l));
}

/** strtol(…, 0) for the forms pciconf accepts: 0x hex, leading-0 octal, decimal. */
function cNumber(text: string): number | undefined {
  if (!NUMBER_RE.test(text)) return undefined;
  if (/^0x/i.test(text)) return parseInt(text.slice(2), 16);
  if (text.length > 1 && text.startsWith('0')) return parseInt(text, 8);
  return parseInt(text, 10);
}

/**
 * pciconf's selector (`getsel`): an optional `name@`, then `pci` and 2 to 4 numbers separated by
 * colons or dots ([domain:]bus:slot[:function]), a trailing separator allowed (as `pciconf -l`
 * prints them).
 */
function selectorBdf(sel: string): Bdf | string {
  const at = sel.lastIndexOf('@');
  const s = at >= 0 ? sel.slice(at + 1) : sel;
  // getsel separates the numbers with ':' or '.' (pci0:3:0.1 as well as pci0:3:0:1).
  const m = /^pci(\d{1,5})(?:[:.](\d{1,3}))?(?:[:.](\d{1,3}))?(?:[:.](\d{1,3}))?[:.]?$/.exec(s);
  if (!m) return `selector ${JSON.stringify(sel)} names no PCI address (a device name alone, like ppt0, cannot be placed)`;
  const nums = [m[1], m[2], m[3], m[4]].filter((x): x is string => x !== undefined).map(Number);
  if (nums.length < 2) return `selector ${JSON.stringify(sel)} has too few numbers`;
  // getsel: with three or four numbers the last is the function; with two it is bus:slot, function 0.
  const [domain, bus, slot, fn] = nums.length === 4 ? nums : nums.length === 3 ? [0, ...nums] : [0, nums[0], nums[1], 0];
  try {
    return fromSlotFunc(domain, bus, slot, fn, sel);
  } catch (e) {
    return (e as Error).message;
  }
}

interface PciconfBlock {
  bdf: Bdf;
  line: number;
  width: 1 | 2 | 4;
  buf: ByteBuffer;
  /** Bytes the header's range asks for, counted from offset 0. */
  end: number;
  over: boolean;
}

export function parsePciconfDump(text: string, part: string): ConfigDumps {
  const warn = new LineWarnings(part);
  const out = new Functions(warn, part);
  let cur: PciconfBlock | undefined;
  let skipping = false;

  const finish = (): void => {
    if (cur === undefined) return;
    if (cur.buf.length < cur.end) {
      warn.warn(`${formatBdf(cur.bdf)}: pciconf output ends at byte ${hex(cur.buf.length)}, its range asked for ${hex(cur.end)} (pciconf stopped early?)`, cur.line);
    }
    out.addBlock(cur, 'pciconf dump');
    cur = undefined;
  };

  for (const l of dumpLines(text, warn, 'pciconf')) {
    const t = l.text;
    if (t.trim() === '') continue;

    const h = PCICONF_HEADER_RE.exec(t);
    if (h) {
      const width = pciconfWidth(h[1]);
      const bdf = selectorBdf(h[2]);
      const range = h[3].split(':');
      const start = cNumber(range[0]);
      const last = range.length === 2 ? cNumber(range[1]) : range.length === 1 ? start : undefined;
      if (typeof bdf === 'string' || start === undefined || last === undefined || last < start) {
        finish();
        warn.warn(typeof bdf === 'string' ? `${bdf}; its data is skipped` : `range ${JSON.stringify(h[3])} is not START:END; its data is skipped`, l.no);
        skipping = true;
        continue;
      }
      skipping = false;
      // readit() reads at start, start + width, … while ≤ END.
      const end = start + (Math.floor((last - start) / width) + 1) * width;
      if (cur !== undefined && bdfKey(cur.bdf) === bdfKey(bdf) && start === cur.buf.length) {
        cur.end = Math.min(MAX_CONFIG_BYTES, end);
        cur.width = width;
        continue; // the same function, read on from where the last block stopped
      }
      finish();
      if (start !== 0) {
        warn.warn(`${formatBdf(bdf)}: pciconf range starts at ${hexInMessage(start)}, not 0: without the header these bytes are not used`, l.no);
        skipping = true;
        continue;
      }
      cur = { bdf, line: l.no, width, buf: new ByteBuffer(), end: Math.min(MAX_CONFIG_BYTES, end), over: false };
      continue;
    }

    if (PCICONF_DATA_RE.test(t)) {
      if (skipping) continue; // the header's warning covers these lines
      if (cur === undefined) {
        warn.warn('pciconf data before any "# pciconf -r SELECTOR RANGE" line: cannot tell which function it is, skipped', l.no);
        continue;
      }
      pciconfValues(t, l, cur, warn);
      continue;
    }
    warn.unrecognised('pciconf -r output', l);
  }
  finish();
  return { functions: out.list, warnings: warn.done() };
}

function pciconfValues(t: string, l: Line, cur: PciconfBlock, warn: LineWarnings): void {
  for (const tok of t.trim().split(/\s+/)) {
    const old = /^0x/i.test(tok);
    const digits = old ? tok.slice(2) : tok;
    // Current pciconf prints %0*x (2 × width digits); older releases 0x%08x whatever the width.
    if (digits.length !== (old ? 8 : cur.width * 2)) {
      warn.warn(`${formatBdf(cur.bdf)}: value ${JSON.stringify(tok)} does not fit the ${cur.width}-byte width; the rest of the line is skipped`, l.no);
      return;
    }
    if (cur.buf.length + cur.width > cur.end) {
      if (!cur.over) warn.warn(`${formatBdf(cur.bdf)}: more values than the range 0:${hex(cur.end - 1)} holds; the extra ones are ignored`, l.no);
      cur.over = true;
      return;
    }
    let v = parseInt(digits, 16);
    for (let i = 0; i < cur.width; i++) {
      cur.buf.push(v & 0xff); // the value of a little-endian register: low byte first
      v = Math.floor(v / 256);
    }
  }
}

// ─── sysfs ────────────────────────────────────────────────────────────────────────────────────

/**
 * A sysfs `config` file (or a copy named after its function). `path` gives the address: its last
 * directory for a file named `config`, else the file name without `.config`/`.bin`.
 */
export function sysfsConfigDump(bytes: Uint8Array, path: string, part: string = path): ConfigDumps {
  const warn = new LineWarnings(part);
  const out = new Functions(warn, part);
  const pieces = path.split(/[\\/]/).filter((p) => p !== '');
  const base = pieces[pieces.length - 1] ?? '';
  const name = base === 'config' ? pieces[pieces.length - 2] ?? '' : base.replace(/\.(config|bin)$/, '');
  const bdf = bdfOf(name);
  if (typeof bdf === 'string') {
    warn.warn(`cannot tell which PCI function ${path} belongs to: ${bdf}`, 0);
    return { functions: [], warnings: warn.done() };
  }
  let b = bytes;
  if (b.length > MAX_CONFIG_BYTES) {
    warn.warn(`${b.length} bytes: configuration space is 4096 bytes, the rest is ignored`, 0);
    b = b.subarray(0, MAX_CONFIG_BYTES);
  }
  out.add({ bdf, bytes: b.slice(), source: { part, offset: 0 } }, 'file');
  // A sysfs read has no line numbers: drop the line 0 the collector gave these warnings.
  const warnings = warn.done().map((w) => (w.source ? { ...w, source: { part, offset: 0 } } : w));
  return { functions: out.list, warnings };
}

/** A text dump (lspci -x… or pciconf -r, told apart by their shape) as a part's Contribution. */
export function pciConfigContribution(text: string, part: string): Contribution {
  const d = looksLikePciconfDump(text) ? parsePciconfDump(text, part) : parseLspciHexDump(text, part);
  return { pciConfig: d.functions.map(configSpace), warnings: d.warnings };
}

/** A sysfs `config` file (binary) as a part's Contribution. */
export function sysfsConfigContribution(bytes: Uint8Array, path: string, part: string = path): Contribution {
  const d = sysfsConfigDump(bytes, path, part);
  return { pciConfig: d.functions.map(configSpace), warnings: d.warnings };
}

function configSpace(f: ConfigDump): PciConfigSpace {
  return { bdf: formatBdf(f.bdf), bytes: f.bytes, source: f.source };
}

/**
 * Functions' configuration space as `lspci -xxxx` prints it (pciutils show_hex_dump): a device line
 * (`BDF LABEL`), then rows of 16 bytes (`OO:` below 0x100, `OOO:` above), a blank line between
 * functions. `parseLspciHexDump` reads it back; `dmarsift capture` and the sample generator write it.
 */
export function formatLspciHexDump(functions: readonly { bdf: string; label: string; bytes: Uint8Array }[]): string {
  return functions.map(({ bdf, label, bytes }) => {
    const rows = [`${bdf} ${label}`];
    for (let o = 0; o + 16 <= bytes.length; o += 16) {
      rows.push(`${o.toString(16).padStart(o < 0x100 ? 2 : 3, '0')}: ${Array.from(bytes.subarray(o, o + 16), (b) => b.toString(16).padStart(2, '0')).join(' ')}`);
    }
    return rows.join('\n') + '\n';
  }).join('\n');
}
