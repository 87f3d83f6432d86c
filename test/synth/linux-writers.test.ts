/**
 * The Linux text the sample generator writes, against the real kernel's output (the captures
 * qemu-linux61-vfio*) and read back by the parsers: /proc/iomem with BARs, /proc/PID/cmdline and
 * debugfs invalidation_queue.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { encodeDescriptor, formatInvalidationQueue } from '../../src/synth/invalidation-encode.js';
import { formatIomem, formatProcCmdlines } from '../../src/synth/linux-text.js';
import { parseMemoryMap } from '../../src/text/memory-map.js';
import { parseVmCommandLines } from '../../src/text/vm-cmdlines.js';
import { capturePath, HAVE_CAPTURES } from '../helpers/captures.js';

describe('invalidation descriptors and invalidation_queue', () => {
  it('encode exactly what Linux 6.1 wrote in the real teardown capture (rows 0, 1 and 2)', () => {
    // invalidation_queue of qemu-linux61-vfio-teardown: 0000010000060031 / 0, 0000000200000025 / 000000000014ec04, 00000000000600e2 / 0.
    expect(encodeDescriptor({ type: 'context-cache', granularity: 'device', did: 6, bdf: '0000:01:00.0' }, 0)).toEqual([0x10000060031n, 0n]);
    expect(encodeDescriptor({ type: 'wait' }, 1)).toEqual([0x200000025n, 0x14ec04n]);
    expect(encodeDescriptor({ type: 'iotlb', granularity: 'domain', did: 6 }, 2)).toEqual([0x600e2n, 0n]);
    // And a page-selective one of the running capture's row 0: 00000000000600f2 / 0000000000bd7006.
    expect(encodeDescriptor({ type: 'iotlb', granularity: 'page', did: 6, addr: '0xbd7000', am: 6 }, 0)).toEqual([0x600f2n, 0xbd7006n]);
  });

  it.skipIf(!HAVE_CAPTURES)('print the header and rows as debugfs does, byte for byte', () => {
    const real = readFileSync(capturePath('qemu-linux61-vfio', 'invalidation_queue'), 'utf8').split('\n').slice(0, 4).join('\n');
    const ours = formatInvalidationQueue('dmar0', 0x15e000, 232, 232, [[0x600f2n, 0xbd7006n]]).split('\n').slice(0, 4).join('\n');
    expect(ours).toBe(real);
  });
});

describe('/proc/iomem with BARs', () => {
  it('reads back: the top level as the memory map, each BAR with its claim as a PCI resource', () => {
    const text = formatIomem({
      ram: [[0, 0xa0000], [0x100000, 0x5ffe0000]], units: [0xfed90000],
      devices: [{ bdf: '0000:01:00.0', bars: [{ start: 0xfe400000, end: 0xfe440000 }, { start: 0xfe440000, end: 0xfe460000, claim: 'vfio-pci' }] }],
    });
    // The lines of the real capture's /proc/iomem for the NIC, with the bridge window left out.
    expect(text).toContain('  fe440000-fe45ffff : 0000:01:00.0\n    fe440000-fe45ffff : vfio-pci\n');
    expect(text).toContain('fed90000-fed90fff : dmar0\n');
    const c = parseMemoryMap(text, 'iomem.txt');
    expect(c.warnings).toEqual([]);
    expect(c.pciResources!.map((r) => [r.bdf, r.start, r.end, r.claimedBy])).toEqual([['0000:01:00.0', 0xfe400000, 0xfe440000, undefined], ['0000:01:00.0', 0xfe440000, 0xfe460000, 'vfio-pci']]);
    expect(c.memoryMap!.filter((m) => m.type === 'ram').map((m) => [m.start, m.end])).toEqual([[0, 0xa0000], [0x100000, 0x5ffe0000]]);
  });
});

describe('/proc/PID/cmdline of a plain QEMU', () => {
  it('reads back as a VM named by its line, with its device and -m', () => {
    const t = formatProcCmdlines([{ name: 'l2', memory: '128M', passthru: ['0000:01:00.0'], style: 'qemu', noName: true }]);
    expect(t.split('\0').slice(0, 3)).toEqual(['qemu-system-x86_64', '-L', '/usr/share/qemu']);
    const c = parseVmCommandLines(t, 'qemu-cmdline.txt');
    expect(c.vms!.map((v) => [v.name, v.passthru, v.memoryBytes, v.qemu?.type])).toEqual([['qemu@qemu-cmdline.txt:1', ['0000:01:00.0'], 128 * 2 ** 20, 'q35']]);
    expect(formatProcCmdlines([])).toBe('');
  });
});
