/**
 * A small JSON reader that remembers the line of every value, used instead of JSON.parse so that
 * every error (syntax or content) names its line, and so that big integers written as JSON numbers
 * stay exact (numbers are kept as their text). Nesting is bounded; errors are InputErrors.
 */
import { InputError } from '../errors.js';

export type JValue =
  | { kind: 'object'; line: number; entries: { key: string; value: JValue }[] }
  | { kind: 'array'; line: number; items: JValue[] }
  | { kind: 'string'; line: number; value: string }
  | { kind: 'number'; line: number; text: string }
  | { kind: 'literal'; line: number; value: boolean | null };

const MAX_DEPTH = 64;

export class JsonReader {
  private i = 0;
  private line = 1;
  constructor(private readonly s: string, private readonly file: string) {}

  fail(message: string, line = this.line): never {
    throw new InputError(message, { file: this.file, line });
  }

  private ws(): void {
    const s = this.s;
    while (this.i < s.length) {
      const c = s.charCodeAt(this.i);
      if (c === 0x0a) this.line++;
      else if (c !== 0x20 && c !== 0x09 && c !== 0x0d && c !== 0xfeff) break;
      this.i++;
    }
  }

  document(): JValue {
    const v = this.value(0);
    this.ws();
    if (this.i < this.s.length) this.fail('unexpected text after the JSON value');
    return v;
  }

  private value(depth: number): JValue {
    if (depth > MAX_DEPTH) this.fail(`JSON nested deeper than ${MAX_DEPTH} levels`);
    this.ws();
    const line = this.line;
    const c = this.s[this.i];
    if (c === '{') {
      this.i++;
      const entries: { key: string; value: JValue }[] = [];
      this.ws();
      if (this.s[this.i] === '}') { this.i++; return { kind: 'object', line, entries }; }
      for (;;) {
        this.ws();
        if (this.s[this.i] !== '"') this.fail('expected a string key in the JSON object');
        const key = this.string();
        this.ws();
        if (this.s[this.i] !== ':') this.fail(`expected ":" after the key ${JSON.stringify(key)}`);
        this.i++;
        entries.push({ key, value: this.value(depth + 1) });
        this.ws();
        const d = this.s[this.i++];
        if (d === '}') return { kind: 'object', line, entries };
        if (d !== ',') this.fail('expected "," or "}" in the JSON object');
      }
    }
    if (c === '[') {
      this.i++;
      const items: JValue[] = [];
      this.ws();
      if (this.s[this.i] === ']') { this.i++; return { kind: 'array', line, items }; }
      for (;;) {
        items.push(this.value(depth + 1));
        this.ws();
        const d = this.s[this.i++];
        if (d === ']') return { kind: 'array', line, items };
        if (d !== ',') this.fail('expected "," or "]" in the JSON array');
      }
    }
    if (c === '"') return { kind: 'string', line, value: this.string() };
    const rest = this.s.slice(this.i, this.i + 5);
    if (rest.startsWith('true')) { this.i += 4; return { kind: 'literal', line, value: true }; }
    if (rest.startsWith('false')) { this.i += 5; return { kind: 'literal', line, value: false }; }
    if (rest.startsWith('null')) { this.i += 4; return { kind: 'literal', line, value: null }; }
    const m = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(this.s.slice(this.i, this.i + 400));
    if (m) { this.i += m[0].length; return { kind: 'number', line, text: m[0] }; }
    if (this.i >= this.s.length) this.fail('unexpected end of the JSON text');
    return this.fail(`unexpected character ${JSON.stringify(c)} in the JSON text`);
  }

  private string(): string {
    const s = this.s;
    this.i++; // opening quote
    let out = '';
    for (;;) {
      if (this.i >= s.length) this.fail('unterminated JSON string');
      const c = s[this.i++];
      if (c === '"') return out;
      if (c === '\n') this.fail('line break inside a JSON string');
      if (c !== '\\') { out += c; continue; }
      const e = s[this.i++];
      const simple: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
      if (e !== undefined && simple[e] !== undefined) { out += simple[e]; continue; }
      if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(s.slice(this.i, this.i + 4))) {
        out += String.fromCharCode(parseInt(s.slice(this.i, this.i + 4), 16));
        this.i += 4;
        continue;
      }
      this.fail('invalid escape in a JSON string');
    }
  }
}
