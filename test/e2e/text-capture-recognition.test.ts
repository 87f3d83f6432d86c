/**
 * Content recognition in a capture directory without capture.json (issue 11 items 9 and 19).
 *
 * - A README or notes file that merely mentions a hypervisor, a kernel tag or a file name is no
 *   part: it is listed as `ignored` with a note, and the capture decodes (it used to exit 2 with
 *   "does not look like VM command lines").
 * - A file whose name says it is a part (iommu_regset, DMAR, dmar_translation_struct…) but whose
 *   content fails recognition is a capture warning naming it and why — never dropped in silence.
 *   One NUL byte in iommu_regset used to make it "binary" and silently ignored (0 contexts, exit 0):
 *   now the file is read, and only the line holding the NUL is a warning.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { capturePath, HAVE_CAPTURES } from '../helpers/captures.js';
import { cliJson, REPO } from '../helpers/cli.js';

const dir = mkdtempSync(path.join(tmpdir(), 'dmarsift-recognition-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Json = any;

const REGSET = [
  'IOMMU: dmar0 Register Base Address: fed90000',
  'Name\t\t\tOffset\t\tContents',
  'VER             \t0x00\t\t0x0000000000000010',
  'GSTS            \t0x1c\t\t0x00000000c7000000',
  'FEDATA          \t0x3c\t\t0x0000000000000021',
  'RTADDR          \t0x20\t\t0x0000000002643000',
  '',
].join('\n');

let n = 0;
function capture(files: Record<string, string | Buffer>): string {
  const d = path.join(dir, `c${n++}`);
  for (const [f, body] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(d, f)), { recursive: true });
    writeFileSync(path.join(d, f), body);
  }
  return d;
}

function decode(d: string): Json {
  const r = cliJson(['decode', '--format', 'json', d]);
  expect(r.status, r.stderr).toBe(0);
  return r.json;
}
const partOf = (j: Json, p: string): Json => j.capture.parts.find((x: Json) => x.path === p);
const warningsFor = (j: Json, p: string): Json[] => j.warnings.filter((w: Json) => w.source?.part === p);

describe('a file that merely mentions a word is ignored and listed so', () => {
  it.each([
    ['README.md', '# Capture of host7\n\nTaken on a bhyve host while the VM `vm1` ran; see the ticket.\n'],
    ['notes.txt', 'The guest was started with qemu-system-x86_64 and kvm.\nbhyve was not involved.\n'],
    ['notes.txt', 'look for the DMAR: lines in dmesg, and for /proc/iomem\n'],
    ['README', 'Kernel driver in use: vfio-pci was checked by hand.\n'],
  ])('%s: %j', (name, text) => {
    const j = decode(capture({ iommu_regset: REGSET, [name]: text }));
    expect(partOf(j, name)).toMatchObject({ kind: 'ignored' });
    expect(partOf(j, name).note).toEqual(expect.any(String));
    expect(partOf(j, 'iommu_regset')).toMatchObject({ kind: 'registers' });
    // A README is not expected to be a part: no warning about it.
    expect(warningsFor(j, name)).toEqual([]);
  });
  it("a sample's own README next to its parts, without capture.json", () => {
    const sample = path.join(REPO, 'samples', 'bhyve-host');
    const files = Object.fromEntries(['DMAR', 'registers.json', 'pciconf-lv.txt', 'ps-args.txt', 'smap.txt', 'README.md'].map((f) => [f, readFileSync(path.join(sample, f))]));
    const j = decode(capture(files));
    expect(partOf(j, 'README.md')).toMatchObject({ kind: 'ignored' });
    expect(partOf(j, 'ps-args.txt')).toMatchObject({ kind: 'vm-cmdlines' });
  });
  it('a whole command line pasted into notes is recognised (it is one)', () => {
    const j = decode(capture({
      iommu_regset: REGSET,
      'notes.txt': 'qemu-system-x86_64 -name guest=vm1 -m 4096 -device vfio-pci,host=0000:03:00.0\n',
    }));
    expect(partOf(j, 'notes.txt')).toMatchObject({ kind: 'vm-cmdlines' });
    expect(j.vms.map((v: Json) => [v.name, v.passthru])).toEqual([['vm1', ['0000:03:00.0']]]);
  });
});

describe('a file named as a part whose content fails recognition is a warning', () => {
  it('one NUL byte in iommu_regset: the file is read, the NUL line is a warning with its line', () => {
    const bad = REGSET.replace('0x0000000000000021', '0x00000000\u000000000021');
    const j = decode(capture({ iommu_regset: bad }));
    expect(partOf(j, 'iommu_regset')).toMatchObject({ kind: 'registers' });
    expect(j.units[0].registers.GSTS.TES).toBe(true);
    expect(warningsFor(j, 'iommu_regset').map((w: Json) => w.source.line)).toEqual([5]);
  });
  it.each([
    ['DMAR', 'not an ACPI table\n', /DMAR/],
    ['dmar_translation_struct', Buffer.from([1, 2, 3, 0, 0, 0, 0, 0, 0, 9, 0x7f, 0xff]), /dmar_translation_struct|binary/],
    ['iommu_regset', 'hello\nworld\n', /iommu_regset/],
    ['domain_translation_struct', '', /empty/],
  ])('%s with the wrong content: ignored, and a warning naming it and why', (name, body, why) => {
    const j = decode(capture({ 'registers.json': JSON.stringify({ format: 'dmarsift-registers', version: 1, units: [{ base: '0xfed90000', registers: { GSTS: '0x0' } }] }), [name]: body }));
    expect(partOf(j, name)).toMatchObject({ kind: 'ignored' });
    const ws = warningsFor(j, name);
    expect(ws, JSON.stringify(j.warnings)).toHaveLength(1);
    expect(ws[0].message).toMatch(why);
  });
});

describe.skipIf(!HAVE_CAPTURES)('the real legacy capture with one NUL byte in iommu_regset', () => {
  it('still has its registers and its 8 present contexts (it had 0, exit 0)', () => {
    const src = (f: string) => readFileSync(capturePath('qemu-linux61-legacy', f));
    const regset = src('iommu_regset').toString('latin1').replace('PRS             \t0xdc', 'PRS\u0000            \t0xdc');
    const d = capture({ DMAR: src('DMAR'), 'memory.elf': src('memory.elf'), iommu_regset: Buffer.from(regset, 'latin1') });
    const j = decode(d);
    expect(j.units[0].contexts.filter((c: Json) => c.present)).toHaveLength(8);
    const ws = warningsFor(j, 'iommu_regset');
    expect(ws).toHaveLength(1);
    expect(ws[0].source.line).toBe(regset.split('\n').findIndex((l) => l.includes('\u0000')) + 1);
  });
});
