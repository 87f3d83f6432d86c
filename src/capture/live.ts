/**
 * `dmarsift capture`: copy what a live Linux host says about its I/O MMU into a capture directory
 * that `dmarsift decode` reads back (docs/capture.md). Everything is read under `root` (default
 * `/`), so the same code runs against a fake tree in tests.
 *
 * Read (each optional; missing ones are noted, unreadable ones are warnings):
 * - /sys/firmware/acpi/tables/DMAR                         → DMAR                 (dmar)
 * - /sys/kernel/debug/iommu/intel/*, per-device folders    → same names           (registers, debugfs-…)
 * - /sys/class/iommu/dmar*\/intel-iommu/{version,address,cap,ecap}
 *                                                          → intel-iommu.json     (registers JSON; used
 *                                                            only when iommu_regset could not be read)
 * - /sys/bus/pci/devices/*: vendor, device, class, driver link, sriov_numvfs, physfn link,
 *   secondary/subordinate_bus_number                       → pci-sysfs.txt        (pci, sysfs listing)
 * - /sys/bus/pci/devices/*\/config (4096 bytes as root; 64 without, which hold no capabilities)
 *                                                          → pci-config.txt       (pci-config, in the
 *                                                            `lspci -xxxx` hex-dump format)
 * - /proc/iomem (needs root for real addresses)            → iomem.txt            (memory-map)
 * - /proc/PID/cmdline of running QEMU/KVM processes        → vm-cmdlines/PID.cmdline (vm-cmdlines)
 * and writes capture.json naming every part, with the notes.
 *
 * Pseudo files (sysfs, debugfs, procfs) report size 0 or 4096 whatever they hold, so they are read
 * until EOF in chunks, never by size, and never with copy_file_range.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { InputError } from '../errors.js';
import type { PartKind } from '../model/types.js';
import { VERSION } from '../version.js';
import { formatLspciHexDump } from '../text/pci-config-dump.js';
import { MANIFEST } from './discover.js';
import { hex } from '../util/hex.js';
import { byCodeUnits } from '../util/compare.js';

export interface LiveCaptureOptions {
  /** Directory to write; created, and must be empty when it exists. */
  out: string;
  /** Where the host's / is (tests: a fake tree). */
  root?: string;
  /** Called for each warning as it happens (the CLI prints them). */
  onWarning?: (message: string) => void;
  /**
   * The kernel log (`dmesg` output), when the caller can get it: it holds the DMAR unit list and
   * the fault reports. Injected so this module starts no process and tests stay hermetic.
   */
  kernelLog?: () => string | undefined;
}

export interface LiveCapturePart {
  kind: PartKind;
  path: string;
  unit?: string;
  note?: string;
}

export interface LiveCaptureResult {
  out: string;
  parts: LiveCapturePart[];
  /** Everything skipped or missing, one line each (also in capture.json `notes`). */
  notes: string[];
  /** Unreadable sources (EACCES and the like): a subset of `notes`. */
  warnings: string[];
}

const DEBUGFS = 'sys/kernel/debug/iommu/intel';
const DEBUGFS_KINDS: Record<string, PartKind> = {
  iommu_regset: 'registers',
  dmar_translation_struct: 'debugfs-translation',
  domain_translation_struct: 'debugfs-domain',
  invalidation_queue: 'invalidation-queue',
  ir_translation_struct: 'ir-translation',
};
const BDF_DIR = /^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/;
const QEMU_PROG = /^(?:qemu-system-[\w.-]+|qemu-kvm|kvm)$/;
const CHUNK = 1 << 20;
/** A single pseudo file larger than this is cut (a runaway debugfs dump must not fill the disk). */
const MAX_FILE = 4 * 2 ** 30;

class Reader {
  readonly notes: string[] = [];
  readonly warnings: string[] = [];
  constructor(
    readonly root: string,
    private readonly onWarning?: (m: string) => void,
  ) {}

  abs(rel: string): string {
    return path.join(this.root, rel);
  }

  /** `/rel` as users know it, for messages. */
  show(rel: string): string {
    return '/' + rel;
  }

  /** Record why a source could not be read: ENOENT is a note, anything else a warning. */
  failed(rel: string, e: unknown, what = ''): void {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      this.notes.push(`${this.show(rel)}: not present${what ? ` (${what})` : ''}`);
      return;
    }
    const why = code === 'EACCES' || code === 'EPERM' ? 'permission denied (run as root)' : String((e as Error).message ?? e);
    this.warn(`${this.show(rel)}: ${why}; skipped`);
  }

  /** Something was there but could not be used: a note and a warning. */
  warn(msg: string): void {
    this.notes.push(msg);
    this.warnings.push(msg);
    this.onWarning?.(msg);
  }

  /** A small text file's trimmed content, or undefined (with a note) when it cannot be read. */
  text(rel: string, quiet = false): string | undefined {
    try {
      return fs.readFileSync(this.abs(rel), 'utf8').trim();
    } catch (e) {
      if (!quiet) this.failed(rel, e);
      return undefined;
    }
  }

  /** A small binary pseudo file read to EOF (at most `max` bytes), or undefined (with a note). */
  bytes(rel: string, max: number): Uint8Array | undefined {
    let fd: number;
    try {
      fd = fs.openSync(this.abs(rel), 'r');
    } catch (e) {
      this.failed(rel, e);
      return undefined;
    }
    try {
      const buf = Buffer.alloc(max);
      let total = 0;
      while (total < max) {
        const n = fs.readSync(fd, buf, total, max - total, null);
        if (n === 0) break;
        total += n;
      }
      return buf.subarray(0, total);
    } catch (e) {
      this.failed(rel, e);
      return undefined;
    } finally {
      fs.closeSync(fd);
    }
  }

  /** Copy a (pseudo) file by reading it to EOF; false (with a note) when it cannot be read. */
  copy(rel: string, dest: string): boolean {
    let fd: number;
    try {
      fd = fs.openSync(this.abs(rel), 'r');
    } catch (e) {
      this.failed(rel, e);
      return false;
    }
    const buf = Buffer.allocUnsafe(CHUNK);
    let out: number | undefined;
    let total = 0;
    try {
      for (;;) {
        const n = fs.readSync(fd, buf, 0, CHUNK, null);
        if (n === 0) break;
        if (out === undefined) {
          fs.mkdirSync(path.dirname(dest), { recursive: true });
          out = fs.openSync(dest, 'w');
        }
        fs.writeSync(out, buf, 0, n);
        total += n;
        if (total >= MAX_FILE) {
          this.notes.push(`${this.show(rel)}: cut at ${MAX_FILE} bytes`);
          break;
        }
      }
    } catch (e) {
      this.failed(rel, e);
      if (out !== undefined) {
        fs.closeSync(out);
        out = undefined;
        fs.rmSync(dest, { force: true });
      }
      return false;
    } finally {
      fs.closeSync(fd);
      if (out !== undefined) fs.closeSync(out);
    }
    if (total === 0) {
      this.notes.push(`${this.show(rel)}: empty`);
      return false;
    }
    return true;
  }

  list(rel: string, what: string): fs.Dirent[] | undefined {
    try {
      return fs.readdirSync(this.abs(rel), { withFileTypes: true }).sort((a, b) => byCodeUnits(a.name, b.name));
    } catch (e) {
      this.failed(rel, e, what);
      return undefined;
    }
  }

  /** Basename of a symlink's target, or undefined when there is no link. */
  linkName(rel: string): string | undefined {
    try {
      return path.basename(fs.readlinkSync(this.abs(rel)));
    } catch {
      return undefined;
    }
  }

  isDir(rel: string): boolean {
    try {
      return fs.statSync(this.abs(rel)).isDirectory();
    } catch {
      return false;
    }
  }
}

/** Capture a live host (or a tree under `root`) into `out`; throws InputError when nothing was found. */
export function captureLive(opts: LiveCaptureOptions): LiveCaptureResult {
  const root = path.resolve(opts.root ?? '/');
  const out = path.resolve(opts.out);
  if (!fs.existsSync(root) || !fs.statSync(root).isDirectory()) throw new InputError('--root is not a directory', { file: opts.root ?? '/' });
  const created = prepareOut(out);
  const r = new Reader(root, opts.onWarning);
  const parts: LiveCapturePart[] = [];
  try {
    // 1. ACPI DMAR table.
    if (r.copy('sys/firmware/acpi/tables/DMAR', path.join(out, 'DMAR'))) parts.push({ kind: 'dmar', path: 'DMAR' });

    // 2. debugfs.
    const regsetCaptured = captureDebugfs(r, out, parts);

    // 3. intel-iommu sysfs (CAP, ECAP, VER, register base of every unit).
    captureIntelIommuSysfs(r, out, parts, regsetCaptured);

    // 4. PCI devices with drivers, SR-IOV and bridge bus ranges.
    capturePci(r, out, parts);

    // 5. /proc/iomem.
    captureIomem(r, out, parts);

    // 6. QEMU/KVM command lines.
    captureQemu(r, out, parts);

    // 7. The kernel log: DMAR lines and fault reports (only what concerns the I/O MMU is kept).
    captureKernelLog(opts.kernelLog, r, out, parts);

    // An empty VM listing ("no VM runs") says nothing about the I/O MMU on its own.
    const captured = parts.filter((p) => p.kind !== 'ignored' && !(p.kind === 'vm-cmdlines' && p.path === NO_VM_LISTING));
    if (captured.length === 0) {
      throw new InputError(
        `nothing captured under ${root}: no DMAR table, intel-iommu debugfs or sysfs, PCI devices, /proc/iomem or QEMU process could be read (${r.notes.length} notes: ${r.notes.slice(0, 3).join('; ')}${r.notes.length > 3 ? '; …' : ''})`,
        { file: out },
      );
    }
    writeManifest(out, root, parts, r.notes);
    return { out, parts, notes: r.notes, warnings: r.warnings };
  } catch (e) {
    if (created) fs.rmSync(out, { recursive: true, force: true });
    throw e;
  }
}

/** Create `out` (true) or accept an existing empty directory (false). */
/**
 * `mkdir -p` one component at a time. Node 20's `mkdirSync(…, { recursive: true })` never returns
 * for a path under /proc (it retries ENOENT forever), so it is not used for a user's --out.
 */
function mkdirEach(dir: string): void {
  const missing: string[] = [];
  let d = dir;
  while (!fs.existsSync(d)) {
    missing.push(d);
    const up = path.dirname(d);
    if (up === d) break;
    d = up;
  }
  for (const m of missing.reverse()) fs.mkdirSync(m);
}

function prepareOut(out: string): boolean {
  if (fs.existsSync(out)) {
    if (!fs.statSync(out).isDirectory()) throw new InputError('--out exists and is not a directory', { file: out });
    if (fs.readdirSync(out).length > 0) throw new InputError('--out directory is not empty (refusing to mix two captures)', { file: out });
    return false;
  }
  try {
    mkdirEach(out);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(`cannot create the directory (${code === 'EACCES' ? 'permission denied' : String((e as Error).message)})`, { file: out });
  }
  return true;
}

function captureDebugfs(r: Reader, out: string, parts: LiveCapturePart[]): boolean {
  const top = r.list(DEBUGFS, 'no IOMMU debugfs: mount debugfs, kernel with CONFIG_INTEL_IOMMU_DEBUGFS');
  if (!top) return false;
  let regset = false;
  for (const e of top) {
    const rel = `${DEBUGFS}/${e.name}`;
    if (e.isDirectory() || (e.isSymbolicLink() && r.isDir(rel))) {
      if (BDF_DIR.test(e.name)) captureDeviceDir(r, out, parts, rel, e.name, 0);
      continue;
    }
    const kind = DEBUGFS_KINDS[e.name];
    if (kind === undefined) continue; // dmar_perf_latency and the like
    if (!r.copy(rel, path.join(out, e.name))) continue;
    parts.push({ kind, path: e.name });
    if (kind === 'registers') regset = true;
  }
  return regset;
}

/** `<BDF>/domain_translation_struct` and `<BDF>/<pasid>/domain_translation_struct` (newer kernels). */
function captureDeviceDir(r: Reader, out: string, parts: LiveCapturePart[], rel: string, relOut: string, depth: number): void {
  const entries = r.list(rel, 'device folder');
  if (!entries) return;
  for (const e of entries) {
    const sub = `${rel}/${e.name}`;
    if (e.name === 'domain_translation_struct' && !e.isDirectory()) {
      const dest = `${relOut}/${e.name}`;
      if (r.copy(sub, path.join(out, dest))) parts.push({ kind: 'debugfs-domain', path: dest });
    } else if (depth === 0 && /^[0-9a-f]{1,5}$/.test(e.name) && (e.isDirectory() || r.isDir(sub))) {
      captureDeviceDir(r, out, parts, sub, `${relOut}/${e.name}`, depth + 1);
    }
  }
}

function captureIntelIommuSysfs(r: Reader, out: string, parts: LiveCapturePart[], regsetCaptured: boolean): void {
  const dir = 'sys/class/iommu';
  const entries = r.list(dir, 'no IOMMU class in sysfs');
  if (!entries) return;
  const units: { name: string; base: string; registers: Record<string, string> }[] = [];
  for (const e of entries) {
    if (!/^dmar\d+$/.test(e.name)) continue;
    const base = `${dir}/${e.name}/intel-iommu`;
    const address = r.text(`${base}/address`);
    const cap = r.text(`${base}/cap`);
    const ecap = r.text(`${base}/ecap`);
    const version = r.text(`${base}/version`);
    if (address === undefined || !/^[0-9a-f]{1,16}$/i.test(address)) continue;
    const registers: Record<string, string> = {};
    if (cap !== undefined && /^[0-9a-f]{1,16}$/i.test(cap)) registers.CAP = `0x${cap.toLowerCase()}`;
    if (ecap !== undefined && /^[0-9a-f]{1,16}$/i.test(ecap)) registers.ECAP = `0x${ecap.toLowerCase()}`;
    const v = version !== undefined ? /^(\d+):(\d+)$/.exec(version) : null;
    if (v) registers.VER = hex(((Number(v[1]) & 0xf) << 4) | (Number(v[2]) & 0xf));
    units.push({ name: e.name, base: `0x${address.toLowerCase()}`, registers });
  }
  if (units.length === 0) return;
  const file = 'intel-iommu.json';
  fs.writeFileSync(path.join(out, file), JSON.stringify({ format: 'dmarsift-registers', version: 1, units }, null, 2) + '\n');
  parts.push(
    regsetCaptured
      ? { kind: 'ignored', path: file, note: 'VER/CAP/ECAP from sysfs; iommu_regset holds them and more' }
      : { kind: 'registers', path: file, note: 'VER/CAP/ECAP from /sys/class/iommu/dmar*/intel-iommu (no iommu_regset)' },
  );
}

function capturePci(r: Reader, out: string, parts: LiveCapturePart[]): void {
  const dir = 'sys/bus/pci/devices';
  const entries = r.list(dir, 'no PCI bus');
  if (!entries) return;
  const lines: string[] = [];
  for (const e of entries) {
    if (!BDF_DIR.test(e.name)) continue;
    const d = `${dir}/${e.name}`;
    let l = e.name;
    const field = (key: string, value: string | undefined): void => {
      if (value !== undefined && value !== '' && !/\s/.test(value)) l += ` ${key}=${value}`;
    };
    field('vendor', r.text(`${d}/vendor`));
    field('device', r.text(`${d}/device`));
    field('class', r.text(`${d}/class`));
    field('driver', r.linkName(`${d}/driver`));
    field('sriov_numvfs', r.text(`${d}/sriov_numvfs`, true));
    const sec = r.text(`${d}/secondary_bus_number`, true);
    const sub = r.text(`${d}/subordinate_bus_number`, true);
    if (sec !== undefined && sub !== undefined) {
      field('secondary_bus_number', sec);
      field('subordinate_bus_number', sub);
    }
    field('physfn', r.linkName(`${d}/physfn`));
    lines.push(l);
  }
  if (lines.length === 0) {
    r.notes.push(`${r.show(dir)}: no PCI function`);
    return;
  }
  fs.writeFileSync(path.join(out, 'pci-sysfs.txt'), lines.join('\n') + '\n');
  parts.push({ kind: 'pci', path: 'pci-sysfs.txt' });
  capturePciConfig(r, out, parts, entries.filter((e) => BDF_DIR.test(e.name)).map((e) => e.name));
}

/** Configuration space is at most 4096 bytes (PCIe); sysfs gives 64 to a reader without root. */
const CONFIG_BYTES = 4096;
const HEADER_BYTES = 64;

/**
 * Each function's configuration space, written as `lspci -xxxx` writes it (pciutils'
 * show_hex_dump: the address, then rows of 16 bytes) so that one text part holds them all and a
 * person can read it. Without root the kernel returns only the 64-byte header, which holds no
 * capability: said once, as a warning, and in each device line.
 */
function capturePciConfig(r: Reader, out: string, parts: LiveCapturePart[], bdfs: string[]): void {
  const blocks: { bdf: string; label: string; bytes: Uint8Array }[] = [];
  let headerOnly = 0;
  for (const bdf of bdfs) {
    const bytes = r.bytes(`sys/bus/pci/devices/${bdf}/config`, CONFIG_BYTES);
    if (bytes === undefined || bytes.length < HEADER_BYTES) continue;
    if (bytes.length <= HEADER_BYTES) headerOnly++;
    blocks.push({ bdf, label: `config space (/sys/bus/pci/devices/${bdf}/config, ${bytes.length} bytes)`, bytes });
  }
  if (blocks.length === 0) return;
  if (headerOnly > 0) {
    r.warn(`${r.show('sys/bus/pci/devices')}/*/config: ${headerOnly} of ${blocks.length} functions gave only their 64-byte header (run as root for the whole configuration space): their MSI, ACS and ATS capabilities are unknown`);
  }
  fs.writeFileSync(path.join(out, 'pci-config.txt'), formatLspciHexDump(blocks));
  parts.push({ kind: 'pci-config', path: 'pci-config.txt', note: 'lspci -xxxx format, from sysfs config' });
}

function captureIomem(r: Reader, out: string, parts: LiveCapturePart[]): void {
  const text = r.text('proc/iomem');
  if (text === undefined) return;
  // Without CAP_SYS_ADMIN the kernel prints every address as zero: useless, and an error to decode.
  const ranges = text.split('\n').map((l) => /^\s*([0-9a-f]+)-([0-9a-f]+) :/i.exec(l)).filter((m) => m !== null);
  if (ranges.length === 0) {
    r.notes.push(`${r.show('proc/iomem')}: no ranges`);
    return;
  }
  if (ranges.every((m) => /^0+$/.test(m[1]) && /^0+$/.test(m[2]))) {
    r.warn(`${r.show('proc/iomem')}: addresses hidden (all zero; read as root); skipped`);
    return;
  }
  fs.writeFileSync(path.join(out, 'iomem.txt'), text + '\n');
  parts.push({ kind: 'memory-map', path: 'iomem.txt' });
}

/** The empty VM listing `capture` writes when every process was read and none runs a VM. */
const NO_VM_LISTING = 'vm-cmdlines.txt';

function captureQemu(r: Reader, out: string, parts: LiveCapturePart[]): void {
  const entries = r.list('proc', 'no procfs');
  if (!entries) return;
  let found = 0;
  let qemuUnread = 0;
  /** Processes whose command line could not be read (not because they ended), by error. */
  const unreadable = new Map<string, number>();
  for (const e of entries) {
    if (!/^\d+$/.test(e.name)) continue;
    let raw: Buffer;
    try {
      raw = fs.readFileSync(r.abs(`proc/${e.name}/cmdline`));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'error';
      if (code === 'ENOENT' || code === 'ESRCH') continue; // the process ended meanwhile
      const why = code === 'EACCES' || code === 'EPERM' ? 'permission denied (run as root; /proc may be mounted with hidepid)' : code === 'EISDIR' ? 'is a directory' : code;
      // Its name (comm) may still be readable: a QEMU process we cannot read is worth a warning.
      const comm = r.text(`proc/${e.name}/comm`, true);
      if (comm !== undefined && QEMU_PROG.test(comm)) {
        r.warn(`QEMU process ${e.name} (${comm} per /proc/${e.name}/comm): its command line could not be read (${why}); its VM is not captured`);
        qemuUnread++;
      } else {
        unreadable.set(why, (unreadable.get(why) ?? 0) + 1);
      }
      continue;
    }
    const args = raw.toString('utf8').split('\0');
    const prog = path.basename(args[0] ?? '');
    if (!QEMU_PROG.test(prog)) continue;
    const rel = `vm-cmdlines/${e.name}.cmdline`;
    fs.mkdirSync(path.join(out, 'vm-cmdlines'), { recursive: true });
    fs.writeFileSync(path.join(out, rel), raw);
    parts.push({ kind: 'vm-cmdlines', path: rel });
    found++;
  }
  for (const [why, count] of unreadable) {
    r.warn(`${count} ${count === 1 ? "process's" : "processes'"} command line (/proc/PID/cmdline) could not be read (${why}): a QEMU/KVM process among them would not be captured`);
  }
  if (found === 0 && unreadable.size === 0 && qemuUnread === 0) {
    // Every command line was read and none is a QEMU's: an empty VM listing says "no VM runs", so
    // analyze knows a vfio-pci device in an empty domain is idle, not a VM's device that cannot DMA.
    fs.writeFileSync(path.join(out, NO_VM_LISTING), '');
    parts.push({ kind: 'vm-cmdlines', path: NO_VM_LISTING });
    r.notes.push('no running QEMU/KVM process (vm-cmdlines.txt is empty on purpose: no VM)');
  } else if (found === 0 && qemuUnread === 0) r.notes.push('no QEMU/KVM process among the processes whose command line could be read');
}

/** Lines of the kernel log about the I/O MMU and the memory map (fault reports, unit list, e820). */
const KERNEL_LOG_LINE = /DMAR|IOMMU|iommu|BIOS-e820|DMA-API/;

function captureKernelLog(get: (() => string | undefined) | undefined, r: Reader, out: string, parts: LiveCapturePart[]): void {
  if (get === undefined) return;
  let text: string | undefined;
  try {
    text = get();
  } catch (e) {
    r.warn(`kernel log: ${(e as Error).message}`);
    return;
  }
  const lines = (text ?? '').split('\n').filter((l) => KERNEL_LOG_LINE.test(l));
  if (lines.length === 0) {
    r.notes.push('kernel log: no DMAR/IOMMU lines (or dmesg not readable)');
    return;
  }
  fs.writeFileSync(path.join(out, 'dmesg.txt'), lines.join('\n') + '\n');
  parts.push({ kind: 'dmesg', path: 'dmesg.txt', note: 'DMAR/IOMMU and e820 lines of dmesg' });
}

function writeManifest(out: string, root: string, parts: LiveCapturePart[], notes: string[]): void {
  const manifest = {
    // Each part's size as written: a copy cut short (a full disk, an interrupted transfer) is then
    // an error naming the part when the capture is read, not an incomplete map read as a whole one.
    parts: parts.map((p) => ({ kind: p.kind, path: p.path, bytes: fs.statSync(path.join(out, p.path)).size, ...(p.unit !== undefined ? { unit: p.unit } : {}), ...(p.note !== undefined ? { note: p.note } : {}) })),
    notes: notes.join('\n'),
    tool: { name: 'dmarsift', version: VERSION, command: 'capture' },
    root,
    created: new Date().toISOString(),
  };
  fs.writeFileSync(path.join(out, MANIFEST), JSON.stringify(manifest, null, 2) + '\n');
}
