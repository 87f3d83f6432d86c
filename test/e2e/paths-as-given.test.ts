/**
 * Paths are printed as the user gave them (issue 11 item 14): a capture named `../cap` has its
 * parts shown as `../cap/<part>` (relative to the working directory, where the user can open
 * them), an absolute capture stays absolute, a file named by an option is shown as typed — in
 * errors, warnings, sources of every report — and every relative SARIF artifact location has a
 * `uriBaseId` that `originalUriBaseIds` describes (an absolute one is a file: URI, which SARIF
 * allows no base for).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli, REPO } from '../helpers/cli.js';
import { sarifValidator } from '../helpers/validators.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'dmarsift-paths-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
const CWD = path.join(root, 'work');
fs.mkdirSync(CWD);
const cap = path.join(root, 'cap');
fs.cpSync(path.join(REPO, 'samples', 'table-integrity'), cap, { recursive: true });
/** A broken ELF core (its program header table runs past the end of the file). */
const badElf = path.join(root, 'bad.elf');
fs.writeFileSync(badElf, fs.readFileSync(path.join(REPO, 'samples', 'scan-no-registers', 'memory.elf')).subarray(0, 100));
const badRegs = path.join(root, 'badregs');
fs.cpSync(path.join(REPO, 'samples', 'table-integrity'), badRegs, { recursive: true });
fs.writeFileSync(path.join(badRegs, 'registers.json'), '{"units": [}');

const run = (args: string[]) => cli(args, { cwd: CWD });

describe('errors name the file as the user gave it', () => {
  it('a part of a capture named relatively: ../dir/part', () => {
    const r = run(['decode', '../badregs']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^dmarsift: \.\.\/badregs\/registers\.json[:\s]/);
  });

  it('a capture that is one file, named relatively: as typed, not absolute', () => {
    const r = run(['decode', '../bad.elf']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^dmarsift: \.\.\/bad\.elf: at byte 0x40: /);
  });

  it('a file named by --memory: as typed', () => {
    const r = run(['decode', '--memory', '../bad.elf', '']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^dmarsift: \.\.\/bad\.elf: at byte 0x40: /);
  });

  it('absolute stays absolute', () => {
    const r = run(['decode', badElf]);
    expect(r.status).toBe(2);
    expect(r.stderr.startsWith(`dmarsift: ${badElf}: at byte 0x40: `)).toBe(true);
    const m = run(['decode', path.join(badRegs)]);
    expect(m.stderr.startsWith(`dmarsift: ${path.join(badRegs, 'registers.json')}`)).toBe(true);
  });
});

describe('reports name parts as the user gave the capture', () => {
  it('decode: warnings and entries cite ../cap/<part>', () => {
    const r = run(['decode', '../cap']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^Capture: \.\.\/cap /m);
    expect(r.stdout).toMatch(/\.\.\/cap\/memory\.sparse(?:@0x[0-9a-f]+)?: 0000:00:1f\.0 \(DID 3\)/);
    expect(r.stdout).toMatch(/\[\.\.\/cap\/memory\.sparse@0x[0-9a-f]+\]/);
    expect(r.stdout).not.toMatch(/(^|[\s[])memory\.sparse[@:]/m);
  });

  it('markdown and JUnit cite ../cap/<part>', () => {
    const md = run(['analyze', '../cap', '--format', 'markdown']);
    expect(md.stdout).toContain('`../cap/memory.sparse@0x31c80`');
    expect(md.stdout).not.toContain('`memory.sparse@');
    const junit = run(['analyze', '../cap', '--format', 'junit']);
    expect(junit.stdout).toContain('../cap/memory.sparse@0x31c80');
  });

  it('a source that is no file (--rtaddr) is not joined to the capture path', () => {
    const noRegs = path.join(root, 'noregs');
    if (!fs.existsSync(noRegs)) fs.cpSync(path.join(REPO, 'samples', 'scan-no-registers'), noRegs, { recursive: true });
    const r = run(['decode', '../noregs', '--rtaddr', '0x3f800000']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/root table @ 0x3f800000 \(legacy\) from --rtaddr$/m);
  });

  it('absolute capture: absolute part paths', () => {
    const r = run(['decode', cap]);
    expect(r.stdout).toMatch(new RegExp(`${path.join(cap, 'memory.sparse').replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}(?:@0x[0-9a-f]+)?: 0000:00:1f\\.0 \\(DID 3\\)`));
  });
});

type Loc = { uri: string; uriBaseId?: string };
function artifactLocations(sarif: any): Loc[] {
  const run0 = sarif.runs[0];
  const locs: Loc[] = [];
  for (const a of run0.artifacts ?? []) locs.push(a.location);
  for (const r of run0.results) for (const l of r.locations ?? []) locs.push(l.physicalLocation.artifactLocation);
  for (const inv of run0.invocations ?? []) for (const n of inv.toolExecutionNotifications ?? []) for (const l of n.locations ?? []) locs.push(l.physicalLocation.artifactLocation);
  return locs;
}

describe('SARIF artifact locations', () => {
  it('relative capture: every location is relative to the working directory, with a uriBaseId the run describes', () => {
    const r = run(['analyze', '../cap', '--format', 'sarif']);
    const sarif = JSON.parse(r.stdout);
    expect(sarifValidator()(sarif)).toEqual([]);
    const locs = artifactLocations(sarif);
    expect(locs.length).toBeGreaterThan(5);
    const bases = sarif.runs[0].originalUriBaseIds ?? {};
    for (const l of locs) {
      expect(l.uri, JSON.stringify(l)).not.toMatch(/^[a-z]+:/);
      expect(l.uriBaseId, JSON.stringify(l)).toBeDefined();
      expect(bases[l.uriBaseId!], l.uriBaseId).toBeDefined();
    }
    expect(locs.map((l) => l.uri)).toContain('../cap/memory.sparse');
    expect(locs.map((l) => l.uri)).toContain('../cap'); // a check that could examine part of it only points at the capture
    expect(locs.map((l) => l.uri)).not.toContain('memory.sparse');
  });

  it('a part named by an option is relative to the working directory too, not to the capture', () => {
    const r = run(['analyze', '../cap', '--dmar', '../cap/DMAR', '--format', 'sarif']);
    const locs = artifactLocations(JSON.parse(r.stdout));
    const dmar = locs.filter((l) => l.uri.endsWith('DMAR'));
    expect(dmar.length).toBeGreaterThan(0);
    for (const l of dmar) expect(l.uri).toBe('../cap/DMAR');
    expect(new Set(locs.map((l) => l.uriBaseId)).size).toBe(1); // one base: the working directory
  });

  it('absolute capture: file: URIs, no uriBaseId (SARIF allows none on an absolute URI)', () => {
    const r = run(['analyze', cap, '--format', 'sarif']);
    const sarif = JSON.parse(r.stdout);
    expect(sarifValidator()(sarif)).toEqual([]);
    for (const l of artifactLocations(sarif)) {
      expect(l.uri).toMatch(/^file:\/\/\//);
      expect(l.uriBaseId).toBeUndefined();
    }
  });
});
