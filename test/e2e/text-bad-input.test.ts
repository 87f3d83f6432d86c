/**
 * Bad text input through the CLI: nothing recognisable → one line on stderr, exit 2; a PCI address
 * that cannot exist → exit 2 with file and line; a half-pasted file → parsed as far as it goes,
 * warnings with line numbers, exit 0.
 */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli, cliJson } from '../helpers/cli.js';

const dir = mkdtempSync(path.join(tmpdir(), 'dmarsift-bad-text-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const p = path.join(dir, name);
  mkdirSync(path.dirname(p), { recursive: true });
  writeFileSync(p, text);
  return p;
}

/** Exit 2, exactly one stderr line starting with `dmarsift: `, nothing on stdout. */
function oneLineError(args: string[]): string {
  const r = cli(args);
  expect(r.status).toBe(2);
  expect(r.stdout).toBe('');
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^dmarsift: /);
  return lines[0];
}

const TICKET = 'Hi team,\r\nthe VM lost its NIC again after the upgrade, see below.\r\nThanks, Bob\r\n';

describe('nothing recognisable', () => {
  it('a single text file that is no capture part', () => {
    expect(oneLineError(['decode', file('ticket.txt', TICKET)])).toMatch(/ticket\.txt: not a capture part dmarsift recognises/);
  });
  it('a directory holding only such files', () => {
    file('only-notes/notes.txt', TICKET);
    file('only-notes/more/README', 'nothing here\n');
    expect(oneLineError(['decode', path.join(dir, 'only-notes')])).toMatch(/only-notes: no capture part found/);
  });
  it.each([
    ['--dmardump', /does not look like dmardump output/],
    ['--pci', /does not look like a PCI inventory/],
    ['--debugfs', /neither dmar_translation_struct nor domain_translation_struct/],
    ['--vms', /does not look like VM command lines/],
    ['--memory-map', /does not look like a memory map/],
  ])('the same text named with %s', (opt, msg) => {
    const line = oneLineError(['decode', '', opt, file('ticket.txt', TICKET)]);
    expect(line).toMatch(/ticket\.txt:1: /);
    expect(line).toMatch(msg);
  });
});

describe('a PCI address that cannot exist is an error naming its line', () => {
  const LSPCI_OK = '0000:03:00.0 Ethernet controller [0200]: Intel Corporation I350 Gigabit Network Connection [8086:1521] (rev 01)\n\tKernel driver in use: igb\n';
  it.each([
    ['lspci, bus 256', 'lspci.txt', `${LSPCI_OK}0000:100:00.0 Ethernet controller [0200]: Intel Corporation I350 [8086:1521] (rev 01)\n\tKernel driver in use: vfio-pci\n`, 3, /bus 256/],
    ['lspci, function 8', 'lspci.txt', `${LSPCI_OK}0000:03:00.8 Ethernet controller [0200]: Intel Corporation I350 [8086:1521] (rev 01)\n\tKernel driver in use: vfio-pci\n`, 3, /function 8/],
    ['dmar_translation_struct, function 8', 'dmar_translation_struct',
      'IOMMU dmar0: Root Table Address: 0x23c5000\nB.D.F\tRoot_entry\t\t\t\tContext_entry\t\t\t\tPASID\tPASID_table_entry\n' +
      '00:00.8\t0x0000000000000000:0x0000000002845001\t0x0000000000000201:0x0000000002844001\t-1    \t0x0000000000000000:0x0000000000000000:0x0000000000000000\n', 3, /function 8/],
    ['per-device domain_translation_struct, bus 256', '0000:100:00.0/domain_translation_struct',
      'Device 0000:100:00.0 @0x1234000\nIOVA_PFN         \tPML5E             \tPML4E             \tPDPE              \tPDE               \tPTE\n', 1, /bus 256/],
    ['dmardump, bus 256', 'dmardump.txt', 'drhd @ 0xfed90000 (version 1.0) PCI segment 0:\n    root table @ 0x0x7f4b2000\n\tPCI bus 256:\n', 3, /bus 256/],
    ['bhyve command line, pci0:3:0:256', 'ps.txt', 'bhyve -c 2 -m 2G -s 0,hostbridge -s 7,passthru,pci0:3:0:256 -s 31,lpc vm1\n', 1, /256/],
  ])('%s', (_name, rel, text, line, msg) => {
    const sub = path.join(dir, `bdf-${rel.replace(/\W/g, '_')}`);
    file(path.join(path.basename(sub), rel), text);
    const err = oneLineError(['decode', sub]);
    expect(err).toContain(`${rel}:${line}: `);
    expect(err).toMatch(msg);
  });
});

describe('a half-pasted file is read as far as it goes', () => {
  it('dmardump cut mid-line, with a ticket header: entries kept, warnings with line numbers, exit 0', () => {
    const p = file('half/dmardump.txt',
      'From: ops@example.org\r\nSubject: dmardump of host7\r\n\r\n' +
      'drhd @ 0xfed90000 (version 1.0) PCI segment 0:\r\n    root table @ 0x0x7f4b2000\r\n\tPCI bus 3:\r\n' +
      '\t    { 0,0 } (igb0) UNTR SLPT 0x7f4b5000 domain 1\r\n\t    { 0,8 } (ppt0) UNTR SLPT 0x1a2c');
    const r = cliJson(['decode', path.dirname(p), '--format', 'json']);
    expect(r.status).toBe(0);
    expect(r.json.units[0].contexts.map((c: any) => c.bdf)).toEqual(['0000:03:00.0']);
    expect(r.json.warnings.map((w: any) => w.source.line)).toEqual([1, 2, 8]);
  });
});
