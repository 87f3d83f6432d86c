/** The options every command that reads a capture shares (README "Usage"; docs/capture.md). */
import type { Argv } from 'yargs';
import { UsageError } from '../errors.js';
import type { CaptureOptions } from '../capture/options.js';
import type { PartKind } from '../model/types.js';
import { addressOption } from './numbers.js';

export const PART_KINDS: PartKind[] = [
  'dmar', 'registers', 'memory', 'dmardump-text', 'debugfs-translation', 'debugfs-domain', 'dmesg', 'pci', 'bridges',
  'vm-cmdlines', 'memory-map', 'invalidation-queue', 'ir-translation', 'ignored',
];

/**
 * The capture options a user may give more than once. Each use takes one value (no yargs
 * `array`, which would swallow the capture path after it); every other option takes one value
 * once (main.ts refuses a second use).
 */
export const REPEATABLE_CAPTURE_OPTIONS = ['registers', 'rtaddr', 'dmardump', 'debugfs', 'dmesg', 'pci', 'vms', 'memory-map'] as const;

export function addCaptureOptions<T>(y: Argv<T>) {
  return y
    .option('dmar', { type: 'string', describe: 'ACPI DMAR table (binary, e.g. /sys/firmware/acpi/tables/DMAR)', group: 'Capture parts:' })
    .option('registers', { type: 'string', describe: 'register snapshot: Linux iommu_regset text or dmarsift registers JSON (repeatable)', group: 'Capture parts:' })
    .option('memory', { type: 'string', describe: 'memory image: raw, ELF core, LiME or dmarsift sparse dump', group: 'Capture parts:' })
    .option('base', { type: 'string', describe: 'physical address of the first byte of a raw image', group: 'Capture parts:' })
    .option('rtaddr', { type: 'string', describe: 'root table address when registers were not captured: ADDR or BASE=ADDR (repeatable: one value per --rtaddr)', group: 'Capture parts:' })
    .option('dmardump', { type: 'string', describe: 'FreeBSD dmardump output (repeatable)', group: 'Capture parts:' })
    .option('debugfs', { type: 'string', describe: 'Linux debugfs dmar_translation_struct / domain_translation_struct (repeatable)', group: 'Capture parts:' })
    .option('dmesg', { type: 'string', describe: 'kernel log (repeatable)', group: 'Capture parts:' })
    .option('pci', { type: 'string', describe: 'PCI inventory: pciconf -lv, lspci -Dnnk / -vmmk / -vv, sysfs listing, sysctl dev.pcib (repeatable)', group: 'Capture parts:' })
    .option('vms', { type: 'string', describe: 'VM command lines (bhyve, vmrun.sh, qemu) (repeatable)', group: 'Capture parts:' })
    .option('memory-map', { type: 'string', describe: 'host memory map: /proc/iomem, e820 lines, sysctl machdep.smap (repeatable)', group: 'Capture parts:' })
    .option('only', { type: 'string', describe: 'read only these part kinds (comma-separated)', group: 'Capture parts:' })
    .option('ignore', { type: 'string', describe: 'skip these part kinds (comma-separated)', group: 'Capture parts:' });
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
