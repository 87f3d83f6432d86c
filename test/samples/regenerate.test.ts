/**
 * The committed samples never drift from their generator: regenerating every scenario (and the
 * index README) into a temporary directory gives the same files, byte for byte, as samples/.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateAll } from '../../src/synth/generate-samples.js';
import { SAMPLES, scenarios } from './scenarios.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dmarsift-samples-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
fs.cpSync(path.join(SAMPLES, 'scenarios'), path.join(tmp, 'scenarios'), { recursive: true });
generateAll(tmp);

const files = (dir: string): string[] => fs.readdirSync(dir).sort();

describe('npm run samples reproduces the committed samples', () => {
  it('the same sample directories (one per scenario) and the same README.md', () => {
    const dirs = (root: string) => files(root).filter((n) => n !== 'scenarios' && fs.statSync(path.join(root, n)).isDirectory());
    expect(dirs(SAMPLES)).toEqual(scenarios.map((s) => s.name).sort());
    expect(dirs(tmp)).toEqual(dirs(SAMPLES));
    expect(fs.readFileSync(path.join(tmp, 'README.md'), 'utf8')).toBe(fs.readFileSync(path.join(SAMPLES, 'README.md'), 'utf8'));
  });

  it.each(scenarios.map((s) => s.name))('%s: byte-identical files, memory image under 8 MB', (name) => {
    const a = path.join(tmp, name);
    const b = path.join(SAMPLES, name);
    expect(files(b)).toEqual(files(a));
    for (const f of files(a)) {
      const x = fs.readFileSync(path.join(a, f));
      const y = fs.readFileSync(path.join(b, f));
      expect(x.equals(y), `${name}/${f} differs from a fresh \`npm run samples\``).toBe(true);
    }
    const mem = path.join(b, 'memory.sparse');
    expect(fs.existsSync(mem) ? fs.statSync(mem).size : 0, `${name}/memory.sparse`).toBeLessThan(8 << 20);
  });
});
