/** What the published package needs beside it: the production packages package-lock.json lists. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { REPO } from './cli.js';

export interface LockedPackage {
  /** `node_modules/…`, relative to the repository. */
  dir: string;
  /** An optional dependency: may be absent on this platform. */
  optional: boolean;
}

/** The production packages of package-lock.json (what `npm ci --omit=dev` installs). */
export function productionPackages(): LockedPackage[] {
  const lock = JSON.parse(fs.readFileSync(path.join(REPO, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean; devOptional?: boolean; optional?: boolean }> };
  return Object.entries(lock.packages)
    .filter(([k, v]) => k.startsWith('node_modules/') && !v.dev && !v.devOptional)
    .map(([k, v]) => ({ dir: k, optional: v.optional === true }));
}

/** The ones this checkout's node_modules lacks (optional ones may be absent). */
export function missingProductionPackages(): string[] {
  return productionPackages().filter((p) => !p.optional && !fs.existsSync(path.join(REPO, p.dir, 'package.json'))).map((p) => p.dir);
}
