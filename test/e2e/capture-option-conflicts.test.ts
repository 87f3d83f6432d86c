/**
 * A part named with its option and excluded with --ignore or --only in the same command (issue 11
 * item 12): that is a usage error naming both options (exit 2, one line), not a silent drop of the
 * file the user gave followed by a request for it.
 */
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, REPO, usageError } from '../helpers/cli.js';

const SAMPLE = path.join(REPO, 'samples', 'bhyve-host');

describe('a part option and --ignore/--only that leave it out', () => {
  it('--ignore memory --memory X', () => {
    const l = usageError(['decode', SAMPLE, '--ignore', 'memory', '--memory', path.join(SAMPLE, 'memory.sparse'), '--rtaddr', 'auto']);
    expect(l).toMatch(/--memory .*memory\.sparse.*--ignore memory/);
    expect(l).not.toMatch(/add --memory/);
  });
  it('--only registers --pci X', () => {
    const l = usageError(['decode', SAMPLE, '--only', 'registers', '--pci', path.join(SAMPLE, 'pciconf-lv.txt')]);
    expect(l).toMatch(/--pci .*pciconf-lv\.txt.*--only registers/);
  });
  it('--ignore with another kind, or --only naming the kind, still works', () => {
    expect(cli(['decode', SAMPLE, '--ignore', 'pci', '--memory', path.join(SAMPLE, 'memory.sparse')]).status).toBe(0);
    expect(cli(['decode', SAMPLE, '--only', 'registers,pci', '--pci', path.join(SAMPLE, 'pciconf-lv.txt')]).status).toBe(0);
  });
});

describe('--rtaddr auto when --ignore/--only left the memory image out', () => {
  it.each([
    [['--ignore', 'memory'], /--ignore memory/],
    [['--only', 'registers,dmar'], /--only registers,dmar/],
  ])('%j: the message says the image was left out, not that the capture has none', (opts, msg) => {
    const l = usageError(['decode', SAMPLE, ...opts, '--rtaddr', 'auto']);
    expect(l).toMatch(msg);
    expect(l).not.toMatch(/this capture has none/);
  });
});
