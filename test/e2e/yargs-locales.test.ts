/**
 * The bundle carries yargs' message translations beside its chunks (src/tools/bundle.ts points
 * yargs at them): a usage error is in the user's language, as with yargs unbundled.
 */
import { describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli.js';

describe("yargs' translations in the bundle", () => {
  it('a usage error follows LANG', () => {
    const fr = cli(['analyze'], { env: { LANG: 'fr_FR.UTF-8', LC_ALL: '' } });
    expect(fr.status).toBe(2);
    expect(fr.stderr).toContain("Pas assez d'arguments");
    const en = cli(['analyze'], { env: { LANG: 'C', LC_ALL: '' } });
    expect(en.stderr).toContain('Not enough non-option arguments');
  });
});
