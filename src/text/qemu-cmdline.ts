/**
 * The arguments of one QEMU/KVM process → what dmarsift needs of the VM: its name, the host
 * functions it is given (`-device vfio-pci,…`), its RAM and what decides the RAM's guest-physical
 * layout (machine type, `max-ram-below-4g`, hot-plug memory). The option syntax is QEMU's
 * (util/qemu-option.c, qapi/qobject-input-visitor.c): `key=value` lists separated by commas, `,,`
 * an escaped comma, the first item without `=` taking the option's implied key (`-m 4G` is
 * `size=4G`, `-name vm1` is `guest=vm1`, `-machine q35` is `type=q35`, `-device vfio-pci` is
 * `driver=vfio-pci`), or a JSON object (libvirt's `-device {"driver":"vfio-pci",…}`).
 *
 * - Name: `-name guest=NAME,debug-threads=on` or `-name NAME[,process=…]`; a line without one gets a
 *   stand-in from the caller (src/text/vm-cmdlines.ts).
 * - Assigned functions: every `-device` whose driver is vfio-pci (also `vfio-pci-nohotplug` and the
 *   old `pci-assign`/`kvm-pci-assign`), by `host=` or the last component of `sysfsdev=`. A mediated
 *   device (`sysfsdev=/sys/bus/mdev/devices/UUID`) and a device passed by file descriptor (`fd=`)
 *   name no host function: a warning, not an assignment.
 * - RAM: `-m [size=]SIZE[,slots=N,maxmem=SIZE]` (a bare number is MiB; QEMU's default is 128 MiB),
 *   replaced by the size of the memory backend `-machine memory-backend=ID` names, or by the sum of
 *   the `-numa node,memdev=ID` backends. DIMMs plugged on the command line (`-device pc-dimm` /
 *   `nvdimm` / `virtio-mem-pci` / `virtio-pmem-pci` with `memdev=ID`) add their backends' sizes to
 *   the hot-plug region. Backends come from `-object memory-backend-{ram,file,memfd},id=ID,size=SIZE`
 *   (sizes in bytes unless suffixed) in either syntax.
 */
import { InputError } from '../errors.js';
import type { QemuMachine } from '../model/types.js';


const MIB = 2 ** 20;
/** QEMU's RAM size when `-m` is absent (hw/core/machine.c default_ram_size on x86). */
const QEMU_DEFAULT_RAM = 128 * MIB;

export interface QemuVm {
  /** From `-name`; undefined when the line has none. */
  name?: string;
  /** Host functions as written (`0000:01:00.0`, `01:00.0`). */
  passthru: string[];
  memoryBytes: number;
  machine: QemuMachine;
  warnings: string[];
}

/** Options whose value is the next argument, so that value is never read as an option. */
const WITH_VALUE = new Set([
  '-name', '-m', '-machine', '-M', '-device', '-object', '-numa', '-append', '-kernel', '-initrd', '-dtb', '-L', '-bios',
  '-serial', '-parallel', '-monitor', '-qmp', '-qmp-pretty', '-mon', '-chardev', '-drive', '-blockdev', '-netdev', '-nic',
  '-net', '-cpu', '-smp', '-accel', '-display', '-vga', '-boot', '-pidfile', '-uuid', '-global', '-fw_cfg', '-loadvm',
  '-D', '-d', '-trace', '-sandbox', '-msg', '-overcommit', '-rtc', '-smbios', '-audiodev', '-spice', '-vnc', '-runas',
  '-chroot', '-k', '-icount', '-action', '-incoming', '-hda', '-hdb', '-hdc', '-hdd', '-cdrom', '-fda', '-fdb', '-mem-path',
  '-usbdevice', '-iscsi', '-add-fd', '-run-with', '-compat', '-watchdog-action', '-semihosting-config', '-plugin',
  '-machine-type', '-object-add', '-tpmdev', '-fsdev', '-virtfs', '-set', '-readconfig', '-writeconfig', '-g', '-option-rom',
]);
const VFIO_DRIVERS = new Set(['vfio-pci', 'vfio-pci-nohotplug', 'pci-assign', 'kvm-pci-assign']);
const DIMM_DRIVERS = new Set(['pc-dimm', 'nvdimm', 'virtio-mem-pci', 'virtio-mem', 'virtio-pmem-pci', 'virtio-pmem']);
const BACKEND_TYPES = /^memory-backend-(?:ram|file|memfd|epc)$/;

/** Throws InputError, without a place (the caller names the line), for what it cannot understand. */
export function parseQemuArgs(args: readonly string[]): QemuVm {
  const warnings: string[] = [];
  const passthru: string[] = [];
  const machine: QemuMachine = {};
  const backends = new Map<string, number>();
  const numaMemdevs: string[] = [];
  const dimmMemdevs: string[] = [];
  let name: string | undefined;
  let size: number | undefined;
  let machineBackend: string | undefined;

  for (let i = 0; i < args.length; i++) {
    const a = args[i].startsWith('--') ? args[i].slice(1) : args[i];
    if (!a.startsWith('-') || !WITH_VALUE.has(a)) continue;
    const v = args[++i];
    if (v === undefined) {
      if (a === '-m' || a === '-device' || a === '-name' || a === '-machine' || a === '-M') throw new InputError(`option ${a} without its value`);
      break;
    }
    switch (a) {
      case '-name': {
        const o = options(v, 'guest', a);
        const g = o.get('guest');
        if (g !== undefined && g !== '') name = g;
        break;
      }
      case '-m': {
        const o = options(v, 'size', a);
        const s = o.get('size');
        if (s !== undefined) size = qemuSize(s, MIB, `-m ${v}`);
        const max = o.get('maxmem');
        if (max !== undefined) machine.maxMemoryBytes = qemuSize(max, 1, `-m ${v}`);
        const slots = o.get('slots');
        if (slots !== undefined) {
          if (!/^\d{1,6}$/.test(slots)) throw new InputError(`-m ${v}: slots=${slots} is no count`);
          machine.slots = Number(slots);
        }
        break;
      }
      case '-machine':
      case '-M': {
        // QEMU merges repeated -machine options: later keys win.
        const o = options(v, 'type', a);
        const t = o.get('type');
        if (t !== undefined && t !== '') machine.type = t;
        const below = o.get('max-ram-below-4g');
        if (below !== undefined) machine.maxRamBelow4g = qemuSize(below, 1, `${a} ${v}`);
        const mb = o.get('memory-backend');
        if (mb !== undefined) machineBackend = mb;
        break;
      }
      case '-object': {
        const o = options(v, 'qom-type', a);
        const type = o.get('qom-type');
        const id = o.get('id');
        const s = o.get('size');
        if (type !== undefined && BACKEND_TYPES.test(type) && id !== undefined && s !== undefined) backends.set(id, qemuSize(s, 1, `-object ${v}`));
        break;
      }
      case '-numa': {
        const o = options(v, 'type', a);
        const memdev = o.get('memdev');
        if ((o.get('type') ?? 'node') === 'node' && memdev !== undefined) numaMemdevs.push(memdev);
        break;
      }
      case '-device': {
        const o = options(v, 'driver', a);
        const driver = o.get('driver') ?? '';
        if (VFIO_DRIVERS.has(driver)) {
          const host = deviceHost(o);
          if (host.bdf !== undefined) passthru.push(host.bdf);
          else warnings.push(`-device ${shorten(v)}: ${host.why}`);
        } else if (DIMM_DRIVERS.has(driver)) {
          const memdev = o.get('memdev');
          if (memdev !== undefined) dimmMemdevs.push(memdev);
        }
        break;
      }
      default:
        break; // a value this parser does not need
    }
  }

  const backendSize = (id: string, what: string): number | undefined => {
    const s = backends.get(id);
    if (s === undefined) warnings.push(`${what} names memory backend ${JSON.stringify(id)}, which no -object memory-backend-… on the line defines`);
    return s;
  };
  let memoryBytes = size ?? QEMU_DEFAULT_RAM;
  if (machineBackend !== undefined) {
    const s = backendSize(machineBackend, '-machine memory-backend');
    if (s !== undefined) {
      if (size !== undefined && s !== size) warnings.push(`-m says ${size} bytes but memory backend ${machineBackend} holds ${s}; using the backend's size (QEMU refuses the mismatch)`);
      memoryBytes = s;
    }
  } else if (numaMemdevs.length > 0) {
    let sum = 0;
    let known = true;
    for (const id of numaMemdevs) {
      const s = backendSize(id, '-numa node,memdev');
      if (s === undefined) known = false;
      else sum += s;
    }
    if (known) {
      if (size !== undefined && sum !== size) warnings.push(`-m says ${size} bytes but the NUMA nodes' memory backends hold ${sum}; using their sum`);
      memoryBytes = sum;
    }
  }
  if (dimmMemdevs.length > 0) {
    let sum = 0;
    for (const id of dimmMemdevs) sum += backendSize(id, 'a DIMM device') ?? 0;
    machine.deviceMemoryBytes = sum;
  }
  return { ...(name !== undefined ? { name } : {}), passthru, memoryBytes, machine, warnings };
}

/** The host function of a vfio-pci device's options, or why there is none. */
function deviceHost(o: Map<string, string>): { bdf?: string; why: string } {
  const host = o.get('host');
  if (host !== undefined && host !== '') return { bdf: host, why: '' };
  const sysfsdev = o.get('sysfsdev');
  if (sysfsdev !== undefined) {
    const last = sysfsdev.replace(/\/+$/, '');
    const base = last.slice(last.lastIndexOf('/') + 1);
    if (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(base)) {
      return { why: `mediated device ${base}: its DMA is its parent device's, not a function's of its own; not counted as assigned` };
    }
    return { bdf: base, why: '' };
  }
  if (o.has('fd')) return { why: 'device passed by file descriptor (fd=): the command line does not say which host function it is' };
  throw new InputError('vfio-pci device without host= or sysfsdev=');
}

/** An option value as key → value: QEMU's `a,b=c` syntax or a JSON object. */
export function options(v: string, implied: string, opt: string): Map<string, string> {
  if (v.startsWith('{')) {
    let o: unknown;
    try {
      o = JSON.parse(v);
    } catch {
      throw new InputError(`${opt} ${shorten(v)}: not valid JSON`);
    }
    const out = new Map<string, string>();
    if (typeof o !== 'object' || o === null || Array.isArray(o)) throw new InputError(`${opt} ${shorten(v)}: not a JSON object`);
    for (const [k, x] of Object.entries(o as Record<string, unknown>)) {
      if (typeof x === 'string') out.set(k, x);
      else if (typeof x === 'number' || typeof x === 'boolean') out.set(k, String(x));
    }
    return out;
  }
  return keyval(v, implied);
}

/**
 * QEMU's `key=value,…` list: `,,` is a literal comma; an item without `=` is the implied key's value
 * when it comes first, else a boolean flag (`key` = `on`). Linear in the length of `v`.
 */
function keyval(v: string, implied: string): Map<string, string> {
  const out = new Map<string, string>();
  const items: string[] = [];
  let parts: string[] = [];
  let start = 0;
  for (let i = 0; i < v.length; i++) {
    if (v.charCodeAt(i) !== 0x2c) continue; // ','
    if (v.charCodeAt(i + 1) === 0x2c) {
      parts.push(v.slice(start, i + 1));
      start = i + 2;
      i++;
      continue;
    }
    parts.push(v.slice(start, i));
    items.push(parts.join(''));
    parts = [];
    start = i + 1;
  }
  parts.push(v.slice(start));
  items.push(parts.join(''));
  items.forEach((item, k) => {
    const eq = item.indexOf('=');
    if (eq < 0) {
      if (k === 0) out.set(implied, item);
      else if (item !== '') out.set(item, 'on');
    } else out.set(item.slice(0, eq), item.slice(eq + 1));
  });
  return out;
}

const SUFFIX: Record<string, number> = { b: 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40, p: 2 ** 50, e: 2 ** 60 };

/**
 * A size as QEMU reads it (util/cutils.c qemu_strtosz): a decimal (with fraction) or 0x number and
 * an optional suffix B/K/M/G/T/P/E (binary, either case); `unit` applies to a bare number (MiB for
 * `-m`, bytes elsewhere). Exact up to 2^53 bytes.
 */
function qemuSize(text: string, unit: number, what: string): number {
  const m = /^(0x[0-9a-f]{1,13}|\d{1,16}(?:\.\d{1,16})?)([bkmgtpe])?$/i.exec(text.trim());
  if (!m) throw new InputError(`${what}: size ${JSON.stringify(shorten(text))} is not a size`);
  const n = m[1].toLowerCase().startsWith('0x') ? Number(BigInt(m[1])) : Number(m[1]);
  const bytes = Math.round(n * (m[2] !== undefined ? SUFFIX[m[2].toLowerCase()] : unit));
  if (!Number.isSafeInteger(bytes)) throw new InputError(`${what}: size ${text} is beyond 2^53 bytes`);
  return bytes;
}

function shorten(v: string): string {
  return v.length > 80 ? `${v.slice(0, 80)}…` : v;
}
