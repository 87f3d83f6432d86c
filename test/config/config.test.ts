/**
 * dmarsift.config.json: the hand-written reader (src/config/config.ts) and the published schema
 * (schema/dmarsift-config.schema.json, through ajv) give the same verdict on every configuration
 * here; the reader's errors name the file, the line and the key; and what only the program knows
 * (check ids, each check's options) is refused by the reader alone.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checks } from '../../src/checks/index.js';
import { configPath, CONFIG_FILE, isDay, loadConfig } from '../../src/config/config.js';
import { InputError } from '../../src/errors.js';
import { schemaValidator } from '../helpers/validators.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dmarsift-config-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const schema = schemaValidator('dmarsift-config.schema.json');

let n = 0;
function write(text: string, name = `c${++n}.json`): string {
  const file = path.join(tmp, name);
  fs.writeFileSync(file, text);
  return file;
}

/** The reader's error as `file:line: message`, or undefined when it accepts the text. */
function readerError(text: string): string | undefined {
  const file = write(text);
  try {
    loadConfig(file);
    return undefined;
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    return e.format().replace(file, 'FILE');
  }
}

// A check with an integer option, from the registry (so the test follows the checks it has).
const withOption = checks.find((c) => Object.values(c.meta.options ?? {}).some((o) => o.type === 'integer'))!;
const [optName, optSpec] = Object.entries(withOption.meta.options!).find(([, o]) => o.type === 'integer')!;

const GOOD = JSON.stringify({
  $schema: './node_modules/dmarsift/schema/dmarsift-config.schema.json',
  failOn: 'warning',
  checks: {
    'dmar-opt-in': 'off',
    'ppt-unmapped': 'critical',
    [withOption.meta.id]: { severity: 'warning', options: { [optName]: (optSpec.minimum ?? 0) + 1 } },
  },
  outputs: { sarif: 'reports/dmarsift.sarif', junit: 'reports/dmarsift.junit.xml' },
  docsUri: 'https://github.com/example/fleet/blob/main/',
  require: ['registers', 'memory'],
  suppressions: [
    { check: 'hpa-leak-mmio', bdf: '3/0/8', vm: 'vm1', reason: 'the GPU driver maps its own BAR; vendor ticket 4411', expires: '2099-12-31' },
    { check: 'stale-context', unit: '0xFED90000', reason: 'firmware leaves it; fixed by BIOS 2.3' },
  ],
}, null, 2);

describe('a good configuration', () => {
  it('is valid to the schema and read with every setting', () => {
    expect(schema(JSON.parse(GOOD))).toEqual([]);
    const file = write(GOOD, 'good.json');
    const c = loadConfig(file);
    expect(c.failOn).toBe('warning');
    expect(c.checks['dmar-opt-in']).toEqual({ level: 'off' });
    expect(c.checks['ppt-unmapped']).toEqual({ level: 'critical' });
    expect(c.checks[withOption.meta.id]).toEqual({ level: 'warning', options: { [optName]: (optSpec.minimum ?? 0) + 1 } });
    // Files relative to the configuration's directory.
    expect(c.outputs).toEqual([{ format: 'sarif', file: path.join(tmp, 'reports/dmarsift.sarif') }, { format: 'junit', file: path.join(tmp, 'reports/dmarsift.junit.xml') }]);
    expect(c.docsUri).toBe('https://github.com/example/fleet/blob/main/');
    expect(c.require).toEqual(['registers', 'memory']);
    // BDFs in any notation become SSSS:BB:DD.F (bhyve's 3/0/8 is the ARI function 03:01.0); units
    // lower-case; each remembers the line its object starts on (the line before its "check").
    const lineOf = (text: string): number => GOOD.split('\n').findIndex((l) => l.includes(text)) + 1 - 1;
    expect(c.suppressions).toEqual([
      { check: 'hpa-leak-mmio', bdf: '0000:03:01.0', vm: 'vm1', reason: 'the GPU driver maps its own BAR; vendor ticket 4411', expires: '2099-12-31', origin: `${file}:${lineOf('"check": "hpa-leak-mmio"')}` },
      { check: 'stale-context', unit: '0xfed90000', reason: 'firmware leaves it; fixed by BIOS 2.3', origin: `${file}:${lineOf('"check": "stale-context"')}` },
    ]);
  });

  it('suppressions may live in a file the configuration names (relative to it)', () => {
    fs.mkdirSync(path.join(tmp, 'sub'), { recursive: true });
    write(JSON.stringify({ suppressions: [{ check: 'ppt-unmapped', reason: 'spare NIC' }] }), 'sub/accepted.json');
    const c = loadConfig(write(JSON.stringify({ suppressions: 'accepted.json' }), 'sub/config.json'));
    expect(c.suppressions).toEqual([{ check: 'ppt-unmapped', reason: 'spare NIC', origin: `${path.join(tmp, 'sub/accepted.json')}:1` }]);
    expect(schema({ suppressions: 'accepted.json' })).toEqual([]);
  });

  it('is found in the working directory unless --config names one or --no-config says none', () => {
    const dir = fs.mkdtempSync(path.join(tmp, 'cwd-'));
    expect(configPath(undefined, dir)).toBeUndefined();
    fs.writeFileSync(path.join(dir, CONFIG_FILE), '{}');
    expect(configPath(undefined, dir)).toBe(CONFIG_FILE);
    expect(configPath('other.json', dir)).toBe('other.json');
    expect(configPath(false, dir)).toBeUndefined();
  });
});

describe('bad configurations: one clear error naming the line and the key', () => {
  // [what, text, the reader's error, the schema refuses it too]
  const cases: [string, string, RegExp, boolean][] = [
    ['not JSON', '{ "failOn": "error",\n  }', /^FILE:2: /, true],
    ['an unknown key', '{\n  "failon": "error"\n}', /^FILE:2: failon: unknown key \(known: \$schema, failOn, /, true],
    ['a bad failOn', '{\n  "failOn": "high"\n}', /^FILE:2: failOn: expected one of none, info, warning, error, critical; got "high"$/, true],
    ['a bad level', '{ "checks": {\n "ppt-unmapped": "loud" } }', /^FILE:2: checks\.ppt-unmapped: expected one of off, critical, error, warning, info; got "loud"$/, true],
    ['an unknown key in a check', '{ "checks": { "ppt-unmapped": {\n "sev": "error" } } }', /^FILE:2: checks\.ppt-unmapped\.sev: unknown key \(known: severity, options\)$/, true],
    ['an unknown format', '{ "outputs": {\n "pdf": "x.pdf" } }', /^FILE:2: outputs\.pdf: unknown format/, true],
    ['an empty output file', '{ "outputs": { "sarif":\n "" } }', /^FILE:2: outputs\.sarif: expected a non-empty string/, true],
    ['a suppression without a reason', '{ "suppressions": [\n { "check": "ppt-unmapped" } ] }', /^FILE:2: suppressions\[0\]: a suppression says why/, true],
    ['a suppression with an unknown key', '{ "suppressions": [ { "check": "ppt-unmapped", "reason": "r",\n "host": "a" } ] }', /^FILE:2: suppressions\[0\]\.host: unknown key/, true],
    ['a bad expiry', '{ "suppressions": [ { "check": "ppt-unmapped", "reason": "r",\n "expires": "31.12.2099" } ] }', /^FILE:2: suppressions\[0\]\.expires: expected a day as YYYY-MM-DD/, true],
    ['a bad unit', '{ "suppressions": [ { "check": "ppt-unmapped", "reason": "r",\n "unit": "dmar0" } ] }', /^FILE:2: suppressions\[0\]\.unit: expected a register base/, true],
    ['an unknown part kind', '{ "require": [\n "ram" ] }', /^FILE:2: require\[0\]: expected one of dmar, /, true],
    ['a key given twice', '{ "failOn": "error",\n "failOn": "none" }', /^FILE:2: failOn: given twice$/, false],
    // What only the program knows: the schema cannot refuse these.
    ['an unknown check id', '{ "checks": {\n "ppt-unmaped": "off" } }', /^FILE:2: checks\.ppt-unmaped: unknown check id "ppt-unmaped" \(see `dmarsift checks`\)$/, false],
    ['a pair check', '{ "checks": {\n "did-reused": "off" } }', /^FILE:2: checks\.did-reused: did-reused compares two captures: it runs under `dmarsift diff`/, false],
    ['an unknown check in a suppression', '{ "suppressions": [ {\n "check": "nope", "reason": "r" } ] }', /^FILE:2: suppressions\[0\]\.check: unknown check id "nope"/, false],
    ['a BDF that is none', '{ "suppressions": [ { "check": "ppt-unmapped", "reason": "r",\n "bdf": "eth0" } ] }', /^FILE:2: suppressions\[0\]\.bdf: not a PCI function: "eth0"/, false],
    ['a day that does not exist', '{ "suppressions": [ { "check": "ppt-unmapped", "reason": "r",\n "expires": "2099-02-30" } ] }', /^FILE:2: suppressions\[0\]\.expires: expected a day/, false],
    ['an option the check lacks', `{ "checks": { "${withOption.meta.id}": { "options": {\n "nope": 1 } } } }`, new RegExp(`^FILE:2: checks\\.${withOption.meta.id}\\.options\\.nope: ${withOption.meta.id} has no option nope \\(its options: `), false],
    ['an option of the wrong type', `{ "checks": { "${withOption.meta.id}": { "options": {\n "${optName}": "many" } } } }`, new RegExp(`^FILE:2: checks\\.${withOption.meta.id}\\.options\\.${optName}: expected an integer`), false],
    ['an option out of bounds', `{ "checks": { "${withOption.meta.id}": { "options": {\n "${optName}": ${(optSpec.minimum ?? 0) - 1} } } } }`, new RegExp(`^FILE:2: checks\\.${withOption.meta.id}\\.options\\.${optName}: expected an integer ≥`), false],
  ];
  for (const [what, text, error, schemaRefuses] of cases) {
    it(what, () => {
      expect(readerError(text)).toMatch(error);
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        return; // not JSON: nothing for the schema to judge
      }
      expect(schema(parsed).length > 0, `schema on ${what}`).toBe(schemaRefuses);
    });
  }

  it('a missing configuration named by --config is an error naming it', () => {
    const file = path.join(tmp, 'none.json');
    expect(() => loadConfig(file)).toThrow(InputError);
    try {
      loadConfig(file);
    } catch (e) {
      expect((e as InputError).format()).toBe(`${file}: no such file or directory`);
    }
  });

  it('isDay', () => {
    expect(isDay('2024-02-29')).toBe(true);
    expect(isDay('2023-02-29')).toBe(false);
    expect(isDay('2024-13-01')).toBe(false);
  });
});
