import { hexDigits } from './hex.js';

/**
 * A PCI function as the model keeps it: segment, bus, and the 8-bit devfn (slot << 3 | fn).
 * FreeBSD's ARI notation (slot 0, function 8…255) maps to devfn 8…255 (docs/cli-contract.md).
 */
export interface Bdf {
  segment: number;
  bus: number;
  devfn: number;
}

/** `SSSS:BB:DD.F`, lower-case, the one output notation. */
export function formatBdf(b: Bdf): string {
  return `${hexDigits(b.segment, 4)}:${formatBusDevfn(b.bus, b.devfn)}`;
}

/**
 * `BB:DD.F`, formatBdf without the segment: for a requester/source-id (the 16-bit bus:devfn a
 * descriptor or table holds) where the segment is not known, as Linux prints one (`%02x:%02x.%d`).
 */
export function formatBusDevfn(bus: number, devfn: number): string {
  return `${hexDigits(bus, 2)}:${hexDigits(devfn >> 3, 2)}.${devfn & 7}`;
}

/** The 16-bit requester / source-id a function's requests carry (bus << 8 | devfn), as IRTEs name it. */
export function sourceId(b: Bdf): number {
  return (b.bus << 8) | b.devfn;
}

/** A stable numeric key: segment << 16 | bus << 8 | devfn. */
export function bdfKey(b: Bdf): number {
  return b.segment * 65536 + b.bus * 256 + b.devfn;
}

export function bdfFromKey(key: number): Bdf {
  return { segment: Math.floor(key / 65536), bus: (key >> 8) & 0xff, devfn: key & 0xff };
}

function checkRange(what: string, v: number, max: number, text: string): number {
  if (!Number.isInteger(v) || v < 0 || v > max) throw new RangeError(`${what} ${v} out of range (0-${max}) in ${JSON.stringify(text)}`);
  return v;
}

const LINUX_RE = /^(?:([0-9a-f]{1,4}):)?([0-9a-f]{1,3}):([0-9a-f]{1,2})\.([0-9a-f]+)$/;
const BHYVE_RE = /^(\d{1,3})\/(\d{1,3})\/(\d{1,3})$/;
const FREEBSD_RE = /^pci(\d+):(\d+):(\d+):(\d+)$/;
const FREEBSD_NO_DOMAIN_RE = /^pci(\d+):(\d+):(\d+)$/;

/**
 * Is `text` written in one of the notations parseBdf reads, whether or not the address can exist?
 * For callers that also accept device names (`ppt0`, a non-PCI dev_name): a name is not a BDF, an
 * impossible BDF is an error.
 */
export function isBdfNotation(text: string): boolean {
  const t = text.trim().toLowerCase();
  return LINUX_RE.test(t) || BHYVE_RE.test(t) || FREEBSD_RE.test(t) || FREEBSD_NO_DOMAIN_RE.test(t);
}

/**
 * Parse any notation the contract accepts:
 *  `0000:03:01.0`, `03:01.0` (hex, Linux), bhyve `3/0/8` (decimal), FreeBSD `pci0:3:0:8`
 *  (domain:bus:slot:func, decimal) or `pci3:0:8` (bus:slot:func).
 *  One way to fail, as parseHex: RangeError for text that is no PCI address — a name such as
 *  `ppt0` (see isBdfNotation), or a BDF that cannot exist (bus 256, slot 32, function 8 in Linux
 *  notation). Readers turn it into an InputError naming their line.
 */
export function parseBdf(text: string, defaultSegment = 0): Bdf {
  const t = text.trim().toLowerCase();
  // Three bus digits are accepted only to be refused by the range check (bus 0x100 cannot exist).
  let m = LINUX_RE.exec(t);
  if (m) {
    const segment = m[1] === undefined ? defaultSegment : parseInt(m[1], 16);
    const bus = checkRange('bus', parseInt(m[2], 16), 255, text);
    const slot = checkRange('slot', parseInt(m[3], 16), 31, text);
    const fn = checkRange('function', parseInt(m[4], 16), 7, text);
    return { segment, bus, devfn: (slot << 3) | fn };
  }
  m = BHYVE_RE.exec(t);
  if (m) return fromSlotFunc(defaultSegment, +m[1], +m[2], +m[3], text);
  m = FREEBSD_RE.exec(t);
  if (m) return fromSlotFunc(+m[1], +m[2], +m[3], +m[4], text);
  m = FREEBSD_NO_DOMAIN_RE.exec(t);
  if (m) return fromSlotFunc(defaultSegment, +m[1], +m[2], +m[3], text);
  throw new RangeError(`${JSON.stringify(text)} is no PCI address (SSSS:BB:DD.F, BB:DD.F, bus/slot/function or pciD:B:S:F)`);
}

/** FreeBSD/bhyve slot,func: an ARI function is slot 0 with func 8…255. */
export function fromSlotFunc(segment: number, bus: number, slot: number, func: number, text = ''): Bdf {
  checkRange('segment', segment, 0xffff, text);
  checkRange('bus', bus, 255, text);
  if (slot === 0 && func > 7) {
    checkRange('ARI function', func, 255, text);
    return { segment, bus, devfn: func };
  }
  checkRange('slot', slot, 31, text);
  checkRange('function', func, 7, text);
  return { segment, bus, devfn: (slot << 3) | func };
}
