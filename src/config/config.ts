/**
 * `dmarsift.config.json` (schema/dmarsift-config.schema.json): what a team sets once for every
 * `analyze` run — per check `off`, a severity, or option values; the default `--fail-on`,
 * `--require` and `--docs-uri`; the reports to write; and the findings it accepts (suppressions,
 * each with its reason).
 *
 * The file is checked here, by hand, against the same rules as the schema (the runtime carries no
 * schema validator; test/config/config.test.ts holds the two to the same verdicts), and further
 * against what only the program knows: the check ids of the registry and each check's options.
 * Every error is an InputError naming the file, the line and the key (`checks.ppt-unmapped.severity:
 * expected one of …`), so a CI log says what to fix. Unknown keys, check ids and options are errors:
 * a misspelt key that silently did nothing would leave a team believing a check is off.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { checks } from '../checks/index.js';
import { resolveOptions } from '../checks/options.js';
import { pairChecks } from '../checks/pair/index.js';
import { REQUIRABLE_KINDS, type RequirableKind } from '../checks/run.js';
import { SEVERITIES, type Severity } from '../checks/types.js';
import { readSmallFile } from '../capture/read.js';
import { InputError, UsageError } from '../errors.js';
import { normBdf } from '../model/roles.js';
import { type JValue, JsonReader } from '../util/json-lines.js';

/** The name `analyze` looks for in the working directory. */
export const CONFIG_FILE = 'dmarsift.config.json';
/** Formats a report may be written in (`outputs`, `--output-format`). */
export const OUTPUT_FORMATS = ['table', 'json', 'markdown', 'sarif', 'junit', 'html'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];
export const FAIL_ON_LEVELS = ['none', 'info', 'warning', 'error', 'critical'] as const;
export type FailOn = (typeof FAIL_ON_LEVELS)[number];
const LEVELS = ['off', ...SEVERITIES] as const;
/** A configuration is a page of settings; anything near this size is no configuration. */
const CONFIG_LIMIT = 4 * 2 ** 20;

/** An accepted finding (schema `definitions.suppression`), with where it was written. */
export interface Suppression {
  check: string;
  /** Normalised `SSSS:BB:DD.F`. */
  bdf?: string;
  /** Register base, lower-case `0x…`. */
  unit?: string;
  vm?: string;
  reason: string;
  /** Last day it holds (UTC), `YYYY-MM-DD`. */
  expires?: string;
  /** `file:line` of the suppression, for reports that it matched nothing or expired. */
  origin: string;
}

export interface CheckSetting {
  /** `off`, or the severity every finding of the check gets. */
  level?: Severity | 'off';
  options?: Record<string, number | boolean | string>;
}

export interface Config {
  /** The file as named (the working directory's, or `--config`'s value). */
  file: string;
  failOn?: FailOn;
  checks: Record<string, CheckSetting>;
  /** Reports to write, files relative to the working directory. */
  outputs: { format: OutputFormat; file: string }[];
  docsUri?: string;
  require?: RequirableKind[];
  suppressions: Suppression[];
}

/** Reads values of a JSON document and says what is wrong with them, naming file, line and key. */
class Reader {
  constructor(readonly file: string) {}

  fail(key: string, message: string, v: JValue): never {
    throw new InputError(`${key}: ${message}`, { file: this.file, line: v.line });
  }

  object(key: string, v: JValue, allowed?: readonly string[]): Map<string, JValue> {
    if (v.kind !== 'object') this.fail(key, `expected an object, got ${what(v)}`, v);
    const out = new Map<string, JValue>();
    for (const e of v.entries) {
      const k = key === '' ? e.key : `${key}.${e.key}`;
      if (out.has(e.key)) this.fail(k, 'given twice', e.value);
      if (allowed !== undefined && !allowed.includes(e.key)) this.fail(k, `unknown key (known: ${allowed.join(', ')})`, e.value);
      out.set(e.key, e.value);
    }
    return out;
  }

  string(key: string, v: JValue): string {
    if (v.kind !== 'string' || v.value === '') this.fail(key, `expected a non-empty string, got ${what(v)}`, v);
    return v.value;
  }

  oneOf<T extends string>(key: string, v: JValue, choices: readonly T[]): T {
    if (v.kind !== 'string' || !(choices as readonly string[]).includes(v.value)) this.fail(key, `expected one of ${choices.join(', ')}; got ${what(v)}`, v);
    return v.value as T;
  }

  scalar(key: string, v: JValue): number | boolean | string {
    if (v.kind === 'string') return v.value;
    if (v.kind === 'literal' && typeof v.value === 'boolean') return v.value;
    if (v.kind === 'number') return Number(v.text);
    return this.fail(key, `expected a number, true/false or a string, got ${what(v)}`, v);
  }
}

function what(v: JValue): string {
  switch (v.kind) {
    case 'string': return JSON.stringify(v.value);
    case 'number': return v.text;
    case 'literal': return String(v.value);
    default: return `an ${v.kind}`;
  }
}

/** The configuration `analyze` uses: `--config FILE`, none (`--no-config`), or the working directory's. */
export function configPath(option: unknown, cwd = process.cwd()): string | undefined {
  if (option === false) return undefined;
  if (typeof option === 'string' && option !== '') return option;
  if (option !== undefined && option !== true) throw new UsageError('--config: expected a file name');
  return fs.existsSync(path.join(cwd, CONFIG_FILE)) ? CONFIG_FILE : undefined;
}

function parse(file: string, what: string): JValue {
  const text = Buffer.from(readSmallFile(file, CONFIG_LIMIT, what)).toString('utf8');
  return new JsonReader(text, file).document();
}

/** Read and check a configuration file (throws an InputError naming file, line and key). */
export function loadConfig(file: string): Config {
  const r: Reader = new Reader(file);
  const top = r.object('', parse(file, 'the configuration'), ['$schema', 'failOn', 'checks', 'outputs', 'docsUri', 'require', 'suppressions']);
  const dir = path.dirname(file);
  const config: Config = { file, checks: {}, outputs: [], suppressions: [] };
  const failOn = top.get('failOn');
  if (failOn !== undefined) config.failOn = r.oneOf('failOn', failOn, FAIL_ON_LEVELS);
  const checksV = top.get('checks');
  if (checksV !== undefined) config.checks = checkSettings(r, checksV);
  const outputs = top.get('outputs');
  if (outputs !== undefined) {
    for (const [format, v] of r.object('outputs', outputs)) {
      if (!(OUTPUT_FORMATS as readonly string[]).includes(format)) r.fail(`outputs.${format}`, `unknown format (formats: ${OUTPUT_FORMATS.join(', ')})`, v);
      config.outputs.push({ format: format as OutputFormat, file: relativeTo(dir, r.string(`outputs.${format}`, v)) });
    }
  }
  const docs = top.get('docsUri');
  if (docs !== undefined) {
    const text = r.string('docsUri', docs);
    if (!/^[A-Za-z][A-Za-z0-9+.-]*:/.test(text)) r.fail('docsUri', `expected an absolute URL, got ${JSON.stringify(text)}`, docs);
    config.docsUri = text;
  }
  const req = top.get('require');
  if (req !== undefined) {
    if (req.kind !== 'array') r.fail('require', `expected an array of part kinds, got ${what(req)}`, req);
    const kinds = req.items.map((v, i) => r.oneOf(`require[${i}]`, v, REQUIRABLE_KINDS));
    const twice = kinds.find((k, i) => kinds.indexOf(k) !== i);
    if (twice !== undefined) r.fail('require', `${twice} is listed twice`, req);
    config.require = kinds;
  }
  const sup = top.get('suppressions');
  if (sup !== undefined) config.suppressions = suppressionsOf(r, sup, dir);
  return config;
}

/** A file a configuration names, as the working directory reaches it. */
function relativeTo(dir: string, file: string): string {
  return path.isAbsolute(file) || dir === '.' ? file : path.join(dir, file);
}

function checkSettings(r: Reader, v: JValue): Record<string, CheckSetting> {
  const out: Record<string, CheckSetting> = {};
  for (const [id, setting] of r.object('checks', v)) {
    const key = `checks.${id}`;
    const check = knownCheck(r, key, id, setting);
    if (setting.kind === 'string') {
      out[id] = { level: r.oneOf(key, setting, LEVELS) };
      continue;
    }
    if (setting.kind !== 'object') r.fail(key, `expected "off", a severity (${SEVERITIES.join(', ')}) or an object with severity and options; got ${what(setting)}`, setting);
    const fields = r.object(key, setting, ['severity', 'options']);
    const s: CheckSetting = {};
    const level = fields.get('severity');
    if (level !== undefined) s.level = r.oneOf(`${key}.severity`, level, LEVELS);
    const optionsV = fields.get('options');
    if (optionsV !== undefined) {
      const options: Record<string, number | boolean | string> = {};
      const specs = check.meta.options ?? {};
      for (const [name, value] of r.object(`${key}.options`, optionsV)) {
        const k = `${key}.options.${name}`;
        if (!Object.hasOwn(specs, name)) {
          const known = Object.keys(specs);
          r.fail(k, `${id} has no option ${name}${known.length > 0 ? ` (its options: ${known.join(', ')})` : ' (it has no options)'}`, value);
        }
        options[name] = r.scalar(k, value);
        // The check's own rules for the value (type, bounds): the message resolveOptions gives.
        try {
          resolveOptions(check.meta, { [name]: options[name] });
        } catch (e) {
          if (e instanceof UsageError) r.fail(k, e.message.replace(/^[^:]*: /, ''), value);
          throw e;
        }
      }
      s.options = options;
    }
    out[id] = s;
  }
  return out;
}

function knownCheck(r: Reader, key: string, id: string, v: JValue): (typeof checks)[number] {
  const check = checks.find((c) => c.meta.id === id);
  if (check !== undefined) return check;
  if (pairChecks.some((c) => c.meta.id === id)) r.fail(key, `${id} compares two captures: it runs under \`dmarsift diff\`, which reads no configuration`, v);
  return r.fail(key, `unknown check id ${JSON.stringify(id)} (see \`dmarsift checks\`)`, v);
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** `YYYY-MM-DD` naming a day of the calendar (not 2025-02-30). */
export function isDay(text: string): boolean {
  const m = DATE.exec(text);
  if (m === null) return false;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.toISOString().slice(0, 10) === text;
}

function suppressionsOf(r: Reader, v: JValue, dir: string, nested = false): Suppression[] {
  if (v.kind === 'string' && !nested) {
    const file = relativeTo(dir, r.string('suppressions', v));
    const inner: Reader = new Reader(file);
    const top = inner.object('', parse(file, 'the suppressions file'), ['$schema', 'suppressions']);
    const list = top.get('suppressions');
    if (list === undefined) throw new InputError('expected an object with a "suppressions" array', { file, line: 1 });
    return suppressionsOf(inner, list, path.dirname(file), true);
  }
  if (v.kind !== 'array') return r.fail('suppressions', `expected an array of suppressions${nested ? '' : ' or the name of a file holding them'}, got ${what(v)}`, v);
  return v.items.map((item, i) => {
    const key = `suppressions[${i}]`;
    const f = r.object(key, item, ['check', 'bdf', 'unit', 'vm', 'reason', 'expires']);
    const checkV = f.get('check');
    const reasonV = f.get('reason');
    if (checkV === undefined) r.fail(key, 'a suppression names its check ("check")', item);
    if (reasonV === undefined) r.fail(key, 'a suppression says why the finding is accepted ("reason")', item);
    const check = r.string(`${key}.check`, checkV);
    knownCheck(r, `${key}.check`, check, checkV);
    const s: Suppression = { check, reason: r.string(`${key}.reason`, reasonV), origin: `${r.file}:${item.line}` };
    const bdf = f.get('bdf');
    if (bdf !== undefined) {
      const text = r.string(`${key}.bdf`, bdf);
      const norm = normBdf(text);
      if (norm === undefined) r.fail(`${key}.bdf`, `not a PCI function: ${JSON.stringify(text)} (e.g. 0000:03:00.0)`, bdf);
      s.bdf = norm;
    }
    const unit = f.get('unit');
    if (unit !== undefined) {
      const text = r.string(`${key}.unit`, unit);
      if (!/^0x[0-9a-f]+$/i.test(text)) r.fail(`${key}.unit`, `expected a register base such as "0xfed90000", got ${JSON.stringify(text)}`, unit);
      s.unit = `0x${BigInt(text).toString(16)}`;
    }
    const vm = f.get('vm');
    if (vm !== undefined) s.vm = r.string(`${key}.vm`, vm);
    const expires = f.get('expires');
    if (expires !== undefined) {
      const text = r.string(`${key}.expires`, expires);
      if (!isDay(text)) r.fail(`${key}.expires`, `expected a day as YYYY-MM-DD, got ${JSON.stringify(text)}`, expires);
      s.expires = text;
    }
    return s;
  });
}
