/**
 * PCI inventories and bridge bus ranges from text. One file may hold several of these shapes
 * (concatenated command outputs); records for one BDF are merged, later fields filling gaps.
 *
 * FreeBSD pciconf (usr.sbin/pciconf/pciconf.c list_devs, list_verbose; cap.c):
 *   `ppt0@pci0:3:0:8:\tclass=0x020000 rev=0x01 hdr=0x00 vendor=0x8086 device=0x1520 subvendor=0x8086 subdevice=0x0001`
 *   older: `em0@pci0:0:25:0:\tclass=0x020000 card=0x20ee17aa chip=0x10f58086 rev=0x03 hdr=0x00`
 *     (card = subdevice<<16 | subvendor, chip = device<<16 | vendor); oldest: `pci3:0:8` without domain.
 *   `none3@…` = no driver. -v lines `    vendor     = '…'`, `    device     = '…'`, class, subclass.
 *   -c lines `    cap 10[70] = PCI-Express …`, `    ecap 0010[160] = SR-IOV 1 IOV enabled, Memory Space
 *   enabled, ARI enabled` + `                     4 VFs configured out of 64 supported` → numVfs
 *   (0 while IOV is disabled: no VF exists then, whatever NumVFs holds).
 *   FreeBSD writes an ARI function as slot 0, function 8…255: mapped with fromSlotFunc.
 * Linux lspci (pciutils lspci.c, ls-kernel.c):
 *   `0000:03:00.0 Ethernet controller [0200]: Intel Corporation I350 … [8086:1521] (rev 01)` (-D, -nn;
 *   without -D the segment is 0; with -n only `03:00.0 0200: 8086:1521 (rev 01)`), then
 *   `\tKernel driver in use: vfio-pci`, `\tBus: primary=00, secondary=03, subordinate=03, sec-latency=0`
 *   (-vv, bridges → BridgeRange), SR-IOV `\t\tIOVCtl:\tEnable+ …` / `\t\tInitial VFs: 8, Total VFs: 8,
 *   Number of VFs: 4, …` (-vv). classCode = class << 8 | prog-if (prog-if 0 when not printed).
 *   Names: lspci prints "vendor device" as one string, kept whole in deviceName.
 *   -vmm records: `Slot:\t0000:03:00.0`, `Class:`, `Vendor:`, `Device:`, `ProgIf:`, `Driver:` (names,
 *   `name [hex]` with -nn, bare hex with -n), separated by blank lines.
 * sysfs listing (our capture script; docs/text-formats.md), one line per device:
 *   `0000:03:00.0 vendor=0x8086 device=0x1521 class=0x020000 driver=vfio-pci sriov_numvfs=0
 *    secondary_bus_number=3 subordinate_bus_number=3 physfn=0000:03:00.0`
 *   (values as the sysfs files print them: hex ids with 0x, bus numbers decimal; keys optional;
 *   driver = basename of the driver link, `-` or empty for none; physfn only for VFs).
 * FreeBSD `sysctl dev.pcib` (sys/dev/pci/pci_pci.c: secbus/subbus SYSCTL_ADD_UINT; the bus
 *   %location string): `dev.pcib.1.secbus: 3`, `dev.pcib.1.subbus: 3`,
 *   `dev.pcib.1.%location: slot=1 function=0 dbsf=pci0:0:1:0 handle=…` → BridgeRange named pcib1.
 */
import { InputError } from '../errors.js';
import type { BridgeRange, Contribution } from '../model/contribution.js';
import type { PciFunction } from '../model/types.js';
import { type Bdf, formatBdf, fromSlotFunc, isBdfNotation, parseBdf } from '../util/bdf.js';
import { isPassThroughDriver } from '../model/roles.js';
import { driverOfUnit, eachLine, headLines, type Line, LineWarnings, NotRecognisedError, type TextInput } from './lines.js';

// Every line pattern is matched against the line without trailing blanks, and none has a lazy
// group before `\s*$` or an unanchored leading `\s`: those take time quadratic in a line's length.
/** `name` + unit number are split after the match (a lazy `name*?(\d+)@` is quadratic on digits). */
const PCICONF_RE = /^([A-Za-z_][\w.-]*)@pci(\d+):(\d+):(\d+)(?::(\d+))?:\s+(.*)$/;
const PCICONF_VERBOSE_RE = /^\s+(vendor|device|class|subclass)\s+=\s+(.*)$/;
const PCICONF_CAP_RE = /^\s+(?:cap|ecap) [0-9a-f]{2,4}\[[0-9a-f]+\] = /i;
const PCICONF_SRIOV_RE = /^\s+ecap [0-9a-f]{4}\[[0-9a-f]+\] = SR-IOV \d+ IOV (enabled|disabled)/i;
const PCICONF_VFS_RE = /^\s+(\d+) VFs configured out of (\d+) supported/;

// Bus and function are matched wider than they can be (3 bus digits, any hex function) so that an
// impossible address is refused at its line instead of skipped as an unknown line.
const BDF_TEXT = '(?:[0-9a-f]{4,8}:)?[0-9a-f]{2,3}:[0-9a-f]{2}\\.[0-9a-f]';
const LSPCI_RE = new RegExp(`^(${BDF_TEXT}) (.+)$`, 'i');
const SYSFS_RE = new RegExp(`^(${BDF_TEXT})((?:\\s+[a-z_]+=\\S*)+)\\s*$`, 'i');
const LSPCI_DRIVER_RE = /^\s+Kernel driver in use: (\S+)\s*$/;
const LSPCI_BUS_RE = /^\s+Bus: primary=([0-9a-f]{2}), secondary=([0-9a-f]{2}), subordinate=([0-9a-f]{2})/i;
const LSPCI_IOVCTL_RE = /^\s+IOVCtl:\s+Enable([+-])/;
const LSPCI_NUMVFS_RE = /Number of VFs: (\d+)/;
const VMM_RE = /^(Slot|Class|Vendor|Device|SVendor|SDevice|Rev|ProgIf|Driver|Module|PhySlot|NUMANode|IOMMUGroup):\s+(.*)$/;
const SYSCTL_PCIB_RE = /^dev\.pcib\.(\d+)\.([%\w]+):\s*(.*)$/;
/** The start of a device line as a cut leaves it: pciconf's `name@pci…`, or a PCI address (lspci, sysfs). */
const DEVICE_START_RE = /^(?:[A-Za-z_][\w.-]*@(?:pci\d|p?c?i?$)|[0-9a-f]{2,8}:[0-9a-f]{0,2}(?:[:.]|$))/i;

/** `ppt0` → [`ppt`, `0`]: a pciconf device name and its unit number (undefined without one). */
function nameAndUnit(s: string): [string, string] | undefined {
  let i = s.length;
  while (i > 0 && s.charCodeAt(i - 1) >= 48 && s.charCodeAt(i - 1) <= 57) i--;
  return i === s.length || i === 0 ? undefined : [s.slice(0, i), s.slice(i)];
}

/** A pciconf line: [name, unit, n1, n2, n3, n4?, rest]. */
function pciconfLine(t: string): string[] | undefined {
  if (!t.includes('@pci')) return undefined;
  const m = PCICONF_RE.exec(t);
  const nu = m ? nameAndUnit(m[1]) : undefined;
  return m && nu ? [t, nu[0], nu[1], m[2], m[3], m[4], m[5], m[6]] : undefined;
}

export function looksLikePciInventory(text: string): boolean {
  let lspci = 0;
  for (const raw of headLines(text)) {
    const l = raw.trimEnd();
    if (pciconfLine(l) !== undefined && /class=0x/.test(l)) return true;
    if (/^Slot:\t/.test(l) || LSPCI_DRIVER_RE.test(l)) return true;
    if (SYSFS_RE.test(l) && /\b(vendor|class|driver)=/.test(l)) return true;
    if (LSPCI_RE.test(l) && /^\S+ [^:=\t]+(?: \[[0-9a-f]{4}\])?: /i.test(l)) lspci++;
  }
  return lspci >= 2;
}

export function looksLikeBridgeSysctl(text: string): boolean {
  return headLines(text).some((l) => SYSCTL_PCIB_RE.test(l.trimEnd()));
}

interface Builder {
  warnings: LineWarnings;
  devices: Map<string, PciFunction>;
  bridges: BridgeRange[];
  part: string;
}

function newBuilder(part: string): Builder {
  return { warnings: new LineWarnings(part), devices: new Map(), bridges: [], part };
}

/** Convert a RangeError from the BDF helpers into an InputError at the line. */
function bdfAt<T>(l: Line, part: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof RangeError) throw new InputError(`PCI address cannot exist: ${e.message}`, { file: part, line: l.no });
    throw e;
  }
}

function linuxBdf(text: string, l: Line, part: string): Bdf {
  if (!isBdfNotation(text)) throw new InputError(`not a PCI address: ${JSON.stringify(text)}`, { file: part, line: l.no });
  return bdfAt(l, part, () => parseBdf(text));
}

/** The record for a BDF (merged with what earlier lines said about it). */
function deviceFor(b: Builder, bdf: Bdf, l: Line): PciFunction {
  const key = formatBdf(bdf);
  let d = b.devices.get(key);
  if (!d) {
    d = { bdf: key, segment: bdf.segment, bus: bdf.bus, devfn: bdf.devfn, passThrough: false, source: { part: b.part, line: l.no } };
    b.devices.set(key, d);
  }
  return d;
}

function setDriver(d: PciFunction, driver: string | undefined): void {
  if (driver === undefined || driver === '' || driver === '-' || driver === 'none') return;
  d.driver = driver;
  d.passThrough = isPassThroughDriver(driver);
}

/** The widest value each hex field can hold (PCI ids 16 bits, class code 24, pciconf card/chip 32). */
const HEX_BITS: Record<string, number> = { vendor: 16, device: 16, class: 24, chip: 32, card: 32 };

/**
 * Fields of `key=value` lines, read with a warning when a field that is used holds no value of its
 * kind (the field is then left unset, never guessed).
 */
function fieldReader(kv: Record<string, string>, b: Builder, l: Line) {
  const bad = (key: string, why: string): undefined => {
    b.warnings.warn(`${key}=${JSON.stringify(kv[key].length > 24 ? `${kv[key].slice(0, 24)}…` : kv[key]).slice(1, -1)}: ${why}; field not read`, l.no);
    return undefined;
  };
  return {
    hex(key: string): number | undefined {
      const v = kv[key];
      if (v === undefined) return undefined;
      const bits = HEX_BITS[key] ?? 32;
      if (!/^(?:0x)?[0-9a-f]+$/i.test(v)) return bad(key, 'not a hex number');
      const n = parseInt(v.replace(/^0x/i, ''), 16);
      return n < 2 ** bits ? n : bad(key, `wider than the field's ${bits} bits`);
    },
    dec(key: string, max = Number.MAX_SAFE_INTEGER): number | undefined {
      const v = kv[key];
      if (v === undefined) return undefined;
      if (!/^\d{1,15}$/.test(v)) return bad(key, 'not a decimal number');
      return Number(v) <= max ? Number(v) : bad(key, `above ${max}`);
    },
  };
}

function decField(v: string | undefined): number | undefined {
  if (v === undefined || !/^\d{1,15}$/.test(v)) return undefined;
  return Number(v);
}

/** `key=value key=value` → record. */
function keyValues(s: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const tok of s.trim().split(/\s+/)) {
    const i = tok.indexOf('=');
    if (i > 0) out[tok.slice(0, i).toLowerCase()] = tok.slice(i + 1);
  }
  return out;
}

export function parsePciInventory(input: TextInput, part: string): Contribution {
  const b = newBuilder(part);
  /** The device whose indented lines follow (pciconf, lspci block), and which shape it was. */
  let current: { d: PciFunction; kind: 'pciconf' | 'lspci' } | undefined;
  let sriovEnabled: boolean | undefined;
  /** An lspci -vmm record being read. */
  let vmm: { fields: Record<string, string>; first: Line } | undefined;
  const pcib = new Map<number, PcibRecord>();
  /** The first line that starts like a device's but could not be read: the functions it hides are unknown. */
  let cutLine: number | undefined;

  const flushVmm = (): void => {
    if (vmm) vmmRecord(b, vmm.fields, vmm.first);
    vmm = undefined;
  };

  for (const l of eachLine(input, (x) => b.warnings.tooLong(x))) {
    const t = l.text.trimEnd();
    if (t === '') {
      flushVmm();
      current = undefined;
      continue;
    }
    let m: RegExpExecArray | null;

    if ((m = VMM_RE.exec(t))) {
      if (m[1] === 'Slot') {
        flushVmm();
        vmm = { fields: {}, first: l };
      }
      if (vmm) vmm.fields[m[1]] = m[2];
      else b.warnings.warn(`lspci -vmm field ${m[1]} before any Slot line, skipped`, l.no);
      current = undefined;
      continue;
    }
    flushVmm();

    const pc = pciconfLine(t);
    if (pc) {
      const [, name, unit, n1, n2, n3, n4, rest] = pc;
      const sel = n4 === undefined ? [0, +n1, +n2, +n3] : [+n1, +n2, +n3, +n4];
      const bdf = bdfAt(l, part, () => fromSlotFunc(sel[0], sel[1], sel[2], sel[3], `pci${sel.join(':')}`));
      const d = deviceFor(b, bdf, l);
      if (name !== 'none') {
        d.deviceUnit = `${name}${unit}`;
        setDriver(d, driverOfUnit(d.deviceUnit));
      }
      const kv = keyValues(rest);
      const f = fieldReader(kv, b, l);
      const chip = f.hex('chip');
      d.vendorId = f.hex('vendor') ?? (chip !== undefined ? chip & 0xffff : d.vendorId);
      d.deviceId = f.hex('device') ?? (chip !== undefined ? Math.floor(chip / 65536) : d.deviceId);
      d.classCode = f.hex('class') ?? d.classCode;
      if (d.vendorId === undefined && d.classCode === undefined) b.warnings.warn('pciconf line without class/vendor fields', l.no);
      current = { d, kind: 'pciconf' };
      sriovEnabled = undefined;
      continue;
    }

    if ((m = SYSCTL_PCIB_RE.exec(t))) {
      sysctlLine(pcib, Number(m[1]), m[2], m[3], l, b);
      current = undefined;
      continue;
    }

    if ((m = SYSFS_RE.exec(t)) && /=/.test(m[2])) {
      sysfsLine(b, linuxBdf(m[1], l, part), keyValues(m[2]), l);
      current = undefined;
      continue;
    }

    if (!/^\s/.test(t) && (m = LSPCI_RE.exec(t))) {
      const d = deviceFor(b, linuxBdf(m[1], l, part), l);
      lspciHeader(d, m[2]);
      current = { d, kind: 'lspci' };
      sriovEnabled = undefined;
      continue;
    }

    if (current && /^\s/.test(t)) {
      const d = current.d;
      if (current.kind === 'pciconf') {
        if ((m = PCICONF_VERBOSE_RE.exec(t)) && !PCICONF_CAP_RE.test(t)) {
          const v = m[2].replace(/^'(.*)'$/, '$1');
          if (m[1] === 'vendor') d.vendorName = v;
          else if (m[1] === 'device') d.deviceName = v;
        } else if ((m = PCICONF_SRIOV_RE.exec(t))) {
          sriovEnabled = m[1].toLowerCase() === 'enabled';
        } else if ((m = PCICONF_VFS_RE.exec(t)) && sriovEnabled !== undefined) {
          d.numVfs = sriovEnabled ? Number(m[1]) : 0;
        }
        // Other indented pciconf lines (caps, bars, continuation lines) carry nothing we keep.
        continue;
      }
      if ((m = LSPCI_DRIVER_RE.exec(t))) {
        setDriver(d, m[1]);
      } else if ((m = LSPCI_BUS_RE.exec(t))) {
        const secondary = parseInt(m[2], 16);
        const subordinate = parseInt(m[3], 16);
        d.secondaryBus = secondary;
        d.subordinateBus = subordinate;
        b.bridges.push({ bdf: d.bdf, secondary, subordinate, source: { part, line: l.no } });
      } else if ((m = LSPCI_IOVCTL_RE.exec(t))) {
        sriovEnabled = m[1] === '+';
      } else if ((m = LSPCI_NUMVFS_RE.exec(t))) {
        d.numVfs = sriovEnabled === false ? 0 : Number(m[1]);
      }
      continue;
    }

    b.warnings.unrecognised('PCI inventory (pciconf, lspci, sysfs listing, sysctl dev.pcib)', l);
    if (cutLine === undefined && DEVICE_START_RE.test(t)) cutLine = l.no;
    current = undefined;
  }
  flushVmm();
  b.bridges.push(...pcibRanges(pcib, b));

  if (b.devices.size === 0 && b.bridges.length === 0) {
    throw new NotRecognisedError('does not look like a PCI inventory (pciconf -l, lspci, sysfs listing or sysctl dev.pcib)', { file: part, line: 1 });
  }
  const out: Contribution = { warnings: b.warnings.done() };
  if (cutLine !== undefined) {
    out.inventoryIncomplete = { part, line: cutLine };
    out.warnings.push({
      message: 'a device line that could not be read (a listing cut short?): the inventory is incomplete, so no check takes a function missing from it as absent',
      source: { part, line: cutLine },
    });
  }
  if (b.devices.size > 0) out.devices = [...b.devices.values()];
  if (b.bridges.length > 0) out.bridges = b.bridges;
  return out;
}

/** `Ethernet controller [0200]: Intel Corporation I350 … [8086:1521] (rev 01) (prog-if 30 [XHCI])` */
function lspciHeader(d: PciFunction, rest: string): void {
  let m = /^([0-9a-f]{4}): ([0-9a-f]{4}):([0-9a-f]{4})(.*)$/i.exec(rest); // -n
  let progIf = 0;
  const p = /\(prog-if ([0-9a-f]{2})/i.exec(rest);
  if (p) progIf = parseInt(p[1], 16);
  if (m) {
    d.classCode = parseInt(m[1], 16) * 256 + progIf;
    d.vendorId = parseInt(m[2], 16);
    d.deviceId = parseInt(m[3], 16);
    return;
  }
  const colon = rest.indexOf(': ');
  if (colon < 0) return;
  const cls = /\[([0-9a-f]{4})\]$/i.exec(rest.slice(0, colon));
  if (cls) d.classCode = parseInt(cls[1], 16) * 256 + progIf;
  // The tail is taken apart from its end (`lastIndexOf`), not with `\s+(…)\s*$` patterns, which are
  // quadratic in a run of blanks.
  let names = stripTail(stripTail(rest.slice(colon + 2).trimEnd(), '(prog-if ', /^\(prog-if [^)]*\)?\)?$/i), '(rev ', /^\(rev [0-9a-f]+\)$/i);
  m = /\[([0-9a-f]{4}):([0-9a-f]{4})\]$/i.exec(names);
  if (m) {
    d.vendorId = parseInt(m[1], 16);
    d.deviceId = parseInt(m[2], 16);
    names = names.slice(0, m.index).trimEnd();
  }
  if (names.trim() !== '') d.deviceName = names.trim();
}

/** `s` without a last `(word …)` group that `shape` accepts, and the blanks before it. */
function stripTail(s: string, start: string, shape: RegExp): string {
  const at = s.toLowerCase().lastIndexOf(start);
  return at > 0 && /\s/.test(s[at - 1]) && shape.test(s.slice(at)) ? s.slice(0, at).trimEnd() : s;
}

/** One lspci -vmm record. Values are names, `name [hex]` (-nn) or bare hex (-n). */
function vmmRecord(b: Builder, f: Record<string, string>, first: Line): void {
  const slot = f.Slot;
  if (slot === undefined) return;
  const d = deviceFor(b, linuxBdf(slot, first, b.part), first);
  // `name [hex]` taken apart from its end, not with `(.*?)\s*\[`, which is quadratic in blanks.
  const split = (v: string | undefined, digits: number): { name?: string; id?: number } => {
    if (v === undefined) return {};
    const hex = new RegExp(`^[0-9a-f]{${digits}}$`, 'i');
    if (hex.test(v)) return { id: parseInt(v, 16) }; // -n: the bare id
    const open = v.lastIndexOf('[');
    if (open >= 0 && v.endsWith(']') && hex.test(v.slice(open + 1, -1))) {
      const name = v.slice(0, open).trimEnd();
      return { ...(name !== '' ? { name } : {}), id: parseInt(v.slice(open + 1, -1), 16) };
    }
    return { name: v };
  };
  const cls = split(f.Class, 4);
  const progIf = f.ProgIf !== undefined && /^[0-9a-f]{1,2}$/i.test(f.ProgIf) ? parseInt(f.ProgIf, 16) : 0;
  if (cls.id !== undefined) d.classCode = cls.id * 256 + progIf;
  const vendor = split(f.Vendor, 4);
  const device = split(f.Device, 4);
  if (vendor.id !== undefined) d.vendorId = vendor.id;
  if (device.id !== undefined) d.deviceId = device.id;
  if (vendor.name !== undefined) d.vendorName = vendor.name;
  if (device.name !== undefined) d.deviceName = device.name;
  setDriver(d, f.Driver);
}

function sysfsLine(b: Builder, bdf: Bdf, kv: Record<string, string>, l: Line): void {
  const d = deviceFor(b, bdf, l);
  const f = fieldReader(kv, b, l);
  d.vendorId = f.hex('vendor') ?? d.vendorId;
  d.deviceId = f.hex('device') ?? d.deviceId;
  d.classCode = f.hex('class') ?? d.classCode;
  setDriver(d, kv.driver);
  const numVfs = f.dec('sriov_numvfs', 0xffff);
  if (numVfs !== undefined) d.numVfs = numVfs;
  if (kv.physfn !== undefined && kv.physfn !== '' && kv.physfn !== '-') d.physfn = formatBdf(linuxBdf(kv.physfn, l, b.part));
  const sec = f.dec('secondary_bus_number');
  const sub = f.dec('subordinate_bus_number');
  if ((sec === undefined) !== (sub === undefined) && kv.secondary_bus_number !== undefined && kv.subordinate_bus_number !== undefined) {
    // One of the two could not be read: already warned.
  } else if ((kv.secondary_bus_number === undefined) !== (kv.subordinate_bus_number === undefined)) {
    b.warnings.warn(`${kv.secondary_bus_number === undefined ? 'subordinate_bus_number' : 'secondary_bus_number'} without ${kv.secondary_bus_number === undefined ? 'secondary_bus_number' : 'subordinate_bus_number'}: the bridge's bus range is unknown`, l.no);
  }
  if (sec !== undefined && sub !== undefined) {
    if (sec > 255 || sub > 255) throw new InputError(`bus number out of range (0-255) in ${JSON.stringify(l.text)}`, { file: b.part, line: l.no });
    d.secondaryBus = sec;
    d.subordinateBus = sub;
    b.bridges.push({ bdf: d.bdf, secondary: sec, subordinate: sub, source: { part: b.part, line: l.no } });
  }
}

interface PcibRecord {
  secondary?: number;
  subordinate?: number;
  bdf?: string;
  line: number;
  /** A bus number could not be read (already warned about). */
  unread?: boolean;
}

function sysctlLine(pcib: Map<number, PcibRecord>, unit: number, key: string, value: string, l: Line, b: Builder): void {
  let r = pcib.get(unit);
  if (!r) {
    r = { line: l.no };
    pcib.set(unit, r);
  }
  const busNo = (v: string): number | undefined => {
    const n = decField(v);
    if (n === undefined) {
      b.warnings.warn(`${key}: ${JSON.stringify(v.slice(0, 24))} is not a bus number; not read`, l.no);
      r!.unread = true;
    }
    if (n !== undefined && n > 255) throw new InputError(`bus ${n} out of range (0-255)`, { file: b.part, line: l.no });
    return n;
  };
  if (key === 'secbus') r.secondary = busNo(value);
  else if (key === 'subbus') r.subordinate = busNo(value);
  else if (key === 'bus') {
    // A "secbus-subbus" form, accepted in case a kernel prints the range as one node.
    const m = /^(\d+)\s*-\s*(\d+)$/.exec(value);
    if (m) {
      r.secondary = busNo(m[1]);
      r.subordinate = busNo(m[2]);
    }
  } else if (key === '%location') {
    const m = /\bdbsf=pci(\d+):(\d+):(\d+):(\d+)/.exec(value);
    if (m) r.bdf = formatBdf(bdfAt(l, b.part, () => fromSlotFunc(+m[1], +m[2], +m[3], +m[4], m[0])));
  }
}

function pcibRanges(pcib: Map<number, PcibRecord>, b: Builder): BridgeRange[] {
  const out: BridgeRange[] = [];
  for (const [unit, r] of pcib) {
    if (r.secondary === undefined && r.subordinate === undefined) continue; // host bridges (pcib0) have neither
    if (r.secondary === undefined || r.subordinate === undefined) {
      if (!r.unread) b.warnings.warn(`pcib${unit}: only one of secbus/subbus in the capture`, r.line);
      continue;
    }
    const br: BridgeRange = { name: `pcib${unit}`, secondary: r.secondary, subordinate: r.subordinate, source: { part: b.part, line: r.line } };
    if (r.bdf !== undefined) br.bdf = r.bdf;
    out.push(br);
  }
  return out;
}

/** `sysctl dev.pcib` output alone (part kind `bridges`). Other lines are warnings. */
export function parseBridgeSysctl(input: TextInput, part: string): Contribution {
  const b = newBuilder(part);
  const pcib = new Map<number, PcibRecord>();
  for (const l of eachLine(input, (x) => b.warnings.tooLong(x))) {
    const t = l.text.trimEnd();
    if (t === '') continue;
    const m = SYSCTL_PCIB_RE.exec(t);
    if (m) sysctlLine(pcib, Number(m[1]), m[2], m[3], l, b);
    else b.warnings.unrecognised('sysctl dev.pcib output', l);
  }
  if (pcib.size === 0) throw new NotRecognisedError('does not look like sysctl dev.pcib output (no "dev.pcib.N.…: …" line)', { file: part, line: 1 });
  const bridges = pcibRanges(pcib, b);
  return { bridges, warnings: b.warnings.done() };
}
