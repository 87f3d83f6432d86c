/**
 * Validators for every JSON/XML output: our JSON Schemas (schema/*.schema.json), the official
 * SARIF 2.1.0 schema (rtm.5, vendored in test/fixtures/report/ from the npm package
 * @microsoft/jest-sarif 1.0.0-beta.0, MIT), and a JUnit XML parser.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import addFormatsImport from 'ajv-formats';
import { XMLParser, XMLValidator } from 'fast-xml-parser';

type J = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- parsed JSON/XML

const addFormats = ((addFormatsImport as unknown as { default?: unknown }).default ?? addFormatsImport) as (a: Ajv) => Ajv;

/**
 * A validator for schema/<file>; returns the list of errors (empty when valid). The other schemas
 * are known by their file names, so one may refer to another (`"$ref": "analyze-report.schema.json"`).
 */
export function schemaValidator(file: string): (data: unknown) => string[] {
  const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
  addFormats(ajv);
  for (const other of readdirSync(new URL('../../schema/', import.meta.url)).filter((f) => f.endsWith('.schema.json') && f !== file)) {
    ajv.addSchema(JSON.parse(readFileSync(new URL(`../../schema/${other}`, import.meta.url), 'utf8')) as object, other);
  }
  const schema = JSON.parse(readFileSync(new URL(`../../schema/${file}`, import.meta.url), 'utf8')) as object;
  const validate = ajv.compile(schema);
  return (d) => (validate(d) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`));
}

/**
 * The SARIF 2.1.0 schema is draft-04: its top-level `id` becomes `$id` so Ajv's default draft-07
 * dialect accepts it (it uses no other draft-04-only keyword).
 */
export function sarifValidator(): (data: unknown) => string[] {
  const schema = JSON.parse(readFileSync(new URL('../fixtures/report/sarif-2.1.0-rtm.5.json', import.meta.url), 'utf8')) as J;
  schema.$id = schema.id;
  delete schema.id;
  delete schema.$schema;
  // unicodeRegExp off: the schema's `language` pattern ends in a stray `]`, invalid under the u flag.
  const ajv = new Ajv({ allErrors: true, strict: false, unicodeRegExp: false });
  addFormats(ajv);
  const validate = ajv.compile(schema);
  return (d) => (validate(d) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`));
}

/** Parses JUnit XML (after checking it is well-formed); testcase and property always arrays. */
export function parseJunit(xml: string): J {
  const ok = XMLValidator.validate(xml);
  if (ok !== true) throw new Error(`JUnit XML not well-formed: ${JSON.stringify(ok)}`);
  const p = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', isArray: (name) => ['testcase', 'property'].includes(name), parseAttributeValue: false, processEntities: true });
  return p.parse(xml) as J;
}
