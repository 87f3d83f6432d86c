/**
 * capture.json (issue 11 items 21, 22): paths stay inside the capture directory after symbolic
 * links are resolved, and every error names the line of capture.json it is about. Expected lines
 * are found in the JSON text itself, not taken from the reader.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { discoverParts } from '../../src/capture/discover.js';
import { InputError } from '../../src/errors.js';

const dir = mkdtempSync(path.join(tmpdir(), 'dmarsift-manifest-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const REGSET = 'IOMMU: dmar0 Register Base Address: fed90000\nName\t\t\tOffset\t\tContents\nGSTS\t\t\t0x1c\t\t0x00000000c7000000\n';
const OUTSIDE = path.join(dir, 'outside.txt');
writeFileSync(OUTSIDE, 'root:x:0:0:root:/root:/bin/bash\n');

let n = 0;
/** A capture directory with iommu_regset, the given manifest text and extra files. */
function capture(manifest: string, extra: (d: string) => void = () => {}): string {
  const d = path.join(dir, `c${n++}`);
  mkdirSync(d);
  writeFileSync(path.join(d, 'iommu_regset'), REGSET);
  writeFileSync(path.join(d, 'capture.json'), manifest);
  extra(d);
  return d;
}

function inputError(f: () => unknown): InputError {
  try {
    f();
  } catch (e) {
    if (e instanceof InputError) return e;
    throw e;
  }
  throw new Error('expected an InputError');
}

/** 1-based line of the first line of `text` containing `needle`. */
const lineOf = (text: string, needle: string): number => text.split('\n').findIndex((l) => l.includes(needle)) + 1;

const manifest = (parts: unknown[]): string => JSON.stringify({ parts }, null, 2) + '\n';

describe('paths stay inside the capture directory', () => {
  it.each([
    ['../ up and out', '../../../../../../../../etc/passwd'],
    ['up and out, next to the capture', '../outside.txt'],
    ['an absolute path', OUTSIDE],
  ])('%s: an error naming capture.json and the line of the path', (_what, p) => {
    const text = manifest([{ kind: 'registers', path: 'iommu_regset' }, { kind: 'memory-map', path: p }]);
    const d = capture(text);
    const e = inputError(() => discoverParts(d, {}));
    expect(e.file).toBe(path.join(d, 'capture.json'));
    expect(e.line).toBe(lineOf(text, JSON.stringify(p)));
    expect(e.message).toMatch(/parts\[1\]/);
    expect(e.message).toMatch(/outside the capture directory|must be relative/);
  });
  it('a symbolic link in the directory that leads outside it', () => {
    const text = manifest([{ kind: 'memory-map', path: 'smap.txt' }]);
    const d = capture(text, (c) => symlinkSync(OUTSIDE, path.join(c, 'smap.txt')));
    const e = inputError(() => discoverParts(d, {}));
    expect(e.line).toBe(lineOf(text, '"smap.txt"'));
    expect(e.message).toMatch(/outside the capture directory/);
  });
  it('a symbolic link to another file inside the directory is fine', () => {
    const d = capture(manifest([{ kind: 'registers', path: 'regs' }]), (c) => symlinkSync('iommu_regset', path.join(c, 'regs')));
    expect(discoverParts(d, {}).filter((p) => p.kind === 'registers').map((p) => p.path)).toEqual(['regs']);
  });
  it('the capture directory itself reached through a symbolic link is fine', () => {
    const d = capture(manifest([{ kind: 'registers', path: 'iommu_regset' }]));
    const link = path.join(dir, `link-${n++}`);
    symlinkSync(d, link);
    expect(discoverParts(link, {}).filter((p) => p.kind === 'registers')).toHaveLength(1);
  });
  it('without a manifest, a symbolic link leading outside is refused too', () => {
    const d = path.join(dir, `scan-${n++}`);
    mkdirSync(d);
    writeFileSync(path.join(d, 'iommu_regset'), REGSET);
    symlinkSync(OUTSIDE, path.join(d, 'notes.txt'));
    const e = inputError(() => discoverParts(d, {}));
    expect(e.file).toBe(path.join(d, 'notes.txt'));
    expect(e.message).toMatch(/outside the capture directory/);
  });
});

describe('errors name their line of capture.json', () => {
  it.each([
    ['an unknown kind', { kind: 'registres', path: 'iommu_regset' }, '"registres"', /unknown kind/],
    ['a missing file', { kind: 'registers', path: 'nope.txt' }, '"nope.txt"', /does not exist/],
    ['an empty path', { kind: 'registers', path: '' }, '"path": ""', /"path" must be a non-empty string/],
    ['a unit that is no address', { kind: 'registers', path: 'iommu_regset', unit: -1 }, '"unit": -1', /"unit"/],
  ])('%s', (_what, bad, needle, msg) => {
    const text = manifest([{ kind: 'registers', path: 'iommu_regset' }, bad]);
    const e = inputError(() => discoverParts(capture(text), {}));
    expect(e.message).toMatch(/^parts\[1\]/);
    expect(e.message).toMatch(msg);
    expect(e.line).toBe(lineOf(text, needle));
  });
  it('a part that is not an object', () => {
    const text = '{\n  "parts": [\n    {"kind": "registers", "path": "iommu_regset"},\n    42\n  ]\n}\n';
    const e = inputError(() => discoverParts(capture(text), {}));
    expect(e.message).toMatch(/^parts\[1\]: expected an object/);
    expect(e.line).toBe(4);
  });
  it('no "parts" array', () => {
    const text = '{\n  "tool": {},\n  "parts": {"kind": "registers"}\n}\n';
    const e = inputError(() => discoverParts(capture(text), {}));
    expect(e.line).toBe(3);
  });
  it.each([
    ['a missing comma', '{\n  "parts": [\n    {"kind": "registers" "path": "iommu_regset"}\n  ]\n}\n', 3],
    ['a trailing comma', '{\n  "parts": [\n    {"kind": "registers", "path": "iommu_regset"},\n  ]\n}\n', 4],
    ['cut short', '{\n  "parts": [\n    {"kind": "registers",\n', 4],
    ['empty', '', 1],
  ])('not valid JSON (%s): the line is given', (_what, text, line) => {
    const e = inputError(() => discoverParts(capture(text), {}));
    expect(e.file).toMatch(/capture\.json$/);
    expect(e.message).toMatch(/JSON/);
    expect(e.line).toBe(line);
  });
});

describe('"bytes": a part cut short or changed since the capture', () => {
  const size = Buffer.byteLength(REGSET);
  it('the size the manifest gives is the file\'s: read as usual', () => {
    const d = capture(manifest([{ kind: 'registers', path: 'iommu_regset', bytes: size }]));
    expect(discoverParts(d, {}).find((p) => p.kind === 'registers')?.path).toBe('iommu_regset');
  });
  it.each([
    ['cut short', size + 100],
    ['grown', size - 1],
  ])('%s: one error naming the part, both sizes and the manifest line', (_what, bytes) => {
    const text = manifest([{ kind: 'registers', path: 'iommu_regset', bytes }]);
    const e = inputError(() => discoverParts(capture(text), {}));
    expect(e.message).toContain(`iommu_regset holds ${size} bytes where the manifest says ${bytes}`);
    expect(e.message).toContain('--ignore registers');
    expect(e.line).toBe(lineOf(text, '"bytes"'));
  });
  it('must be a whole number', () => {
    const text = manifest([{ kind: 'registers', path: 'iommu_regset', bytes: '12' }]);
    expect(inputError(() => discoverParts(capture(text), {})).message).toContain('"bytes" must be the part\'s size');
  });
  it('a part left out with --ignore is not measured', () => {
    const d = capture(manifest([{ kind: 'registers', path: 'iommu_regset', bytes: 1 }]));
    expect(discoverParts(d, { ignore: ['registers'] }).some((p) => p.kind === 'registers')).toBe(false);
  });
});
