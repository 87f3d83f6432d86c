import { readFileSync } from 'node:fs';

/**
 * The package version, read once from our package.json: one level above src/ and dist/ (both
 * compile to the same depth), two above the bundle in dist/bundle/.
 */
export const VERSION: string = (() => {
  for (const rel of ['../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'dmarsift') return pkg.version ?? '0.0.0';
    } catch {
      // not there: try the next level
    }
  }
  return '0.0.0';
})();
