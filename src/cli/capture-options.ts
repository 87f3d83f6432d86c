/** The options every command that reads a capture shares (README "Usage"; docs/capture.md). */
import type { Argv } from 'yargs';
import { UsageError } from '../errors.js';
import type { CaptureOptions } from '../capture/options.js';
import type { PartKind } from '../model/types.js';
import { addressOption } from './numbers.js';

const PART_KINDS: PartKind[] = [
  'dmar', 'registers', 'memory', 'dmardump-text', 'debugfs-translation', 'debugfs-domain', 'dmesg', 'pci', 'bridges',
  'vm-cmdlines', 'memory-map', 'invalidation-queue', 'ir-translation', 'pci-config', 'ignored',
];

/** A capture option: every one takes one string value and is listed under "Capture parts:". */
interface CaptureOption {
  name: string;
  describe: string;
  /**
   * The user may give it more than once. Each use takes one value (no yargs `array`, which would
   * swallow the capture path after it); every other option takes one value once (main.ts refuses
   * a second use).
   */
  repeatable?: true;
}

const CAPTURE_OPTIONS: readonly CaptureOption[] = [
  { name: 'dmar', describe: 'ACPI DMAR table (binary, e.g. /sys/firmware/acpi/tables/DMAR)' },
  { name: 'registers', describe: 'register snapshot: Linux iommu_regset text or dmarsift registers JSON (repeatable)', repeatable: true },
  { name: 'memory', describe: 'memory image: raw, ELF core, LiME or dmarsift sparse dump' },
  { name: 'base', describe: 'physical address of the first byte of a raw image' },
  { name: 'rtaddr', describe: 'root table address when registers were not captured: ADDR or BASE=ADDR (repeatable: one value per --rtaddr)', repeatable: true },
  { name: 'dmardump', describe: 'FreeBSD dmardump output (repeatable)', repeatable: true },
  { name: 'debugfs', describe: 'Linux debugfs dmar_translation_struct / domain_translation_struct (repeatable)', repeatable: true },
  { name: 'dmesg', describe: 'kernel log (repeatable)', repeatable: true },
  { name: 'pci', describe: 'PCI inventory: pciconf -lv, lspci -Dnnk / -vmmk / -vv, sysfs listing, sysctl dev.pcib (repeatable)', repeatable: true },
  { name: 'vms', describe: 'VM command lines (bhyve, vmrun.sh, qemu) (repeatable)', repeatable: true },
  { name: 'memory-map', describe: 'host memory map: /proc/iomem, e820 lines, sysctl machdep.smap (repeatable)', repeatable: true },
  { name: 'only', describe: 'read only these part kinds (comma-separated)' },
  { name: 'ignore', describe: 'skip these part kinds (comma-separated)' },
];

/** The capture options a user may give more than once (see CaptureOption.repeatable). */
export const REPEATABLE_CAPTURE_OPTIONS: readonly string[] = CAPTURE_OPTIONS.filter((o) => o.repeatable).map((o) => o.name);

export function addCaptureOptions<T>(y: Argv<T>): Argv<T> {
  let out = y;
  for (const o of CAPTURE_OPTIONS) out = out.option(o.name, { type: 'string', describe: o.describe, group: 'Capture parts:' });
  return out;
}

function kinds(list: string | undefined, opt: string): PartKind[] | undefined {
  if (list === undefined) return undefined;
  const out: PartKind[] = [];
  for (const k of list.split(',').map((s) => s.trim()).filter(Boolean)) {
    const kind = k === 'debugfs' ? undefined : (k as PartKind);
    if (k === 'debugfs') {
      out.push('debugfs-translation', 'debugfs-domain');
      continue;
    }
    if (!PART_KINDS.includes(kind!)) throw new UsageError(`--${opt}: unknown part kind ${JSON.stringify(k)} (known: ${PART_KINDS.join(', ')}, debugfs)`);
    out.push(kind!);
  }
  return out;
}

function address(text: string, opt: string): number {
  return addressOption(text, opt)!;
}

export function captureOptionsFrom(argv: Record<string, unknown>): CaptureOptions {
  const arr = (k: string): string[] | undefined => {
    const v = argv[k];
    if (v === undefined) return undefined;
    return (Array.isArray(v) ? v : [v]).map(String);
  };
  const str = (k: string): string | undefined => (argv[k] === undefined ? undefined : String(argv[k]));
  const rtaddr = (arr('rtaddr') ?? []).map((t) => {
    if (t === 'auto') return { auto: true as const };
    const m = /^([^=]+)=(.+)$/.exec(t);
    return m ? { base: address(m[1], 'rtaddr'), addr: address(m[2], 'rtaddr') } : { addr: address(t, 'rtaddr') };
  });
  const base = str('base');
  return {
    dmar: str('dmar'),
    registers: arr('registers'),
    memory: str('memory'),
    base: base === undefined ? undefined : address(base, 'base'),
    rtaddr,
    dmardump: arr('dmardump'),
    debugfs: arr('debugfs'),
    dmesg: arr('dmesg'),
    pci: arr('pci'),
    vms: arr('vms'),
    memoryMap: arr('memory-map'),
    only: kinds(str('only'), 'only'),
    ignore: kinds(str('ignore'), 'ignore'),
  };
}
