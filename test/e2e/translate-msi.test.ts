/**
 * `dmarsift translate --msi` as a user runs it, once per behaviour: delivered (exit 0), blocked
 * (exit 1, JSON), what the capture cannot tell and bad usage (exit 2, one line on stderr). The
 * answers themselves are checked in process on every real capture (test/model/translate-msi.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { cli, cliJson } from '../helpers/cli.js';
import { capturePath } from '../helpers/captures.js';

const DEBUGFS = capturePath('qemu-linux61-debugfs');

describe('translate --msi', () => {
  it('IRTE 22 of 01:00.0 (ir_translation_struct: vector 0x27): delivered, exit 0', () => {
    const r = cli(['translate', DEBUGFS, '--bdf', '01:00.0', '--msi', '0xfee002d0:0']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('→ remapped: vector 0x27 to APIC id 0x1 (DST 0x100)');
  });

  it('the same MSI from 02:00.0: blocked by source-id verification, exit 1; JSON names the fault', () => {
    const r = cliJson(['translate', DEBUGFS, '--bdf', '02:00.0', '--msi', '0xfee002d0:0x0', '--format', 'json']);
    expect(r.status).toBe(1);
    expect(r.json).toMatchObject({ bdf: '0000:02:00.0', outcome: 'fault', fault: { code: 0x26, recorded: true }, irte: { index: 22, present: true } });
  });

  it('an entry the capture does not hold (debugfs ignored, index 300 beyond the page the image has): exit 2, one line', () => {
    const r = cli(['translate', DEBUGFS, '--ignore', 'ir-translation', '--bdf', '01:00.0', '--msi', `${0xfee00000 + 300 * 32 + 0x10}:0`]);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/IRTE 300 \(table 0x2100000, entry at 0x21012c0\) is not in the capture/)]);
  });

  it('usage: neither or both of --iova and --msi, a malformed pair, an address outside the interrupt window: exit 2', () => {
    for (const args of [[], ['--iova', '0x1000', '--msi', '0xfee00000:0'], ['--msi', '0xfee00000'], ['--msi', '0xfed00000:0'], ['--msi', '0xfee00000:0x100000000']]) {
      const r = cli(['translate', DEBUGFS, '--bdf', '01:00.0', ...args]);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(/--iova|--msi/);
      expect(r.stderr).not.toMatch(/at .*\.js:\d+/);
    }
  });
});
