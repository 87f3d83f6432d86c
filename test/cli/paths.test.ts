/** The CLI's PathNamer (issue 11 item 14): paths as the user typed them, whatever form a reader used. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { namedAsGiven, pathNamer } from '../../src/cli/paths.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'dmarsift-namer-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
fs.mkdirSync(path.join(root, 'cap', 'sub'), { recursive: true });
fs.writeFileSync(path.join(root, 'cap', 'DMAR'), 'x');
fs.writeFileSync(path.join(root, 'one.elf'), 'x');
// Relative paths below are relative to `root`: the tests run there.
const rel = (p: string) => path.relative(process.cwd(), path.join(root, p));

describe('pathNamer', () => {
  it('a capture directory named relatively: its parts joined to it; option files as typed', () => {
    const n = pathNamer(rel('cap'), { pci: ['some/pci.txt'], memory: '../m.raw' });
    expect(n.part('DMAR')).toBe(path.join(rel('cap'), 'DMAR'));
    expect(n.part('sub/x.txt')).toBe(path.join(rel('cap'), 'sub/x.txt'));
    expect(n.part('some/pci.txt')).toBe('some/pci.txt');
    expect(n.part('../m.raw')).toBe('../m.raw');
    // Errors: the forms readers use — relative to the capture, already joined, resolved.
    expect(n.file('DMAR')).toBe(path.join(rel('cap'), 'DMAR'));
    expect(n.file(path.join(rel('cap'), 'DMAR'))).toBe(path.join(rel('cap'), 'DMAR'));
    expect(n.file(path.join(root, 'cap', 'sub', 'x.txt'))).toBe(path.join(rel('cap'), 'sub', 'x.txt'));
    expect(n.file(path.resolve('../m.raw'))).toBe('../m.raw');
    expect(n.file('/elsewhere/x')).toBe('/elsewhere/x');
  });

  it('an absolute capture directory: absolute parts, resolved files stay as they are', () => {
    const n = pathNamer(path.join(root, 'cap'));
    expect(n.part('DMAR')).toBe(path.join(root, 'cap', 'DMAR'));
    expect(n.file('DMAR')).toBe(path.join(root, 'cap', 'DMAR'));
    expect(n.file(path.join(root, 'cap', 'DMAR'))).toBe(path.join(root, 'cap', 'DMAR'));
  });

  it('a capture that is one file: its base name and its resolved path are the path typed', () => {
    const n = pathNamer(rel('one.elf'));
    expect(n.part('one.elf')).toBe(rel('one.elf'));
    expect(n.file('one.elf')).toBe(rel('one.elf'));
    expect(n.file(path.join(root, 'one.elf'))).toBe(rel('one.elf'));
  });

  it('no capture path: everything is as typed', () => {
    const n = pathNamer('', { dmar: 'x/DMAR' });
    expect(n.part('x/DMAR')).toBe('x/DMAR');
    expect(n.file(path.resolve('x/DMAR'))).toBe('x/DMAR');
  });

  it('namedAsGiven keeps the message and position, renames the file', () => {
    const n = pathNamer(rel('cap'));
    const e = namedAsGiven(new InputError('bad', { file: 'DMAR', offset: 4 }), n) as InputError;
    expect(e).toBeInstanceOf(InputError);
    expect(e.format()).toBe(`${path.join(rel('cap'), 'DMAR')}: at byte 0x4: bad`);
    const other = new Error('x');
    expect(namedAsGiven(other, n)).toBe(other);
  });
});
