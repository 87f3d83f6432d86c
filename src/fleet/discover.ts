/**
 * Which captures a fleet run analyses. Without `--recursive` every path given is a capture (one
 * that cannot be read becomes a row with its error). With it, each path is searched: a directory
 * holding `capture.json`, or a file dmarsift recognises as a capture part, is a capture (and is
 * not searched further: a capture's own subdirectories are its parts); any other directory is
 * searched, and one with no capture in it or below it is skipped and listed (`samples/scenarios`
 * holds the samples' descriptions, not captures).
 *
 * A capture's label — its name in the summary and what a baseline pairs it by — is its path
 * below the directory searched (`host7`, so a baseline survives the root being renamed by date),
 * or the path as given.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MANIFEST } from '../capture/discover.js';
import { sniffPart } from '../capture/sniff.js';
import { byCodeUnits } from '../util/compare.js';

export interface FleetTarget {
  path: string;
  label: string;
}

export interface FoundCaptures {
  captures: FleetTarget[];
  /** Directories searched that hold no capture, with why. */
  skipped: { path: string; reason: string }[];
}

/** Deeper than this a search stops (as capture discovery does). */
const MAX_DEPTH = 8;
/** Files of one directory sniffed to tell whether it is a capture without a manifest. */
const MAX_SNIFFED = 64;

/** A path as the user would type it: no trailing separator. */
function tidy(p: string): string {
  const t = p.replace(/[\\/]+$/, '');
  return t === '' ? p : t;
}

function stat(p: string): fs.Stats | undefined {
  try {
    return fs.statSync(p);
  } catch {
    return undefined;
  }
}

/** A directory is a capture when it holds a manifest or a file that reads as a part. */
function isCapture(dir: string, entries: fs.Dirent[]): boolean {
  if (entries.some((e) => e.name === MANIFEST)) return true;
  let sniffed = 0;
  for (const e of entries) {
    const file = path.join(dir, e.name);
    if (!(e.isFile() || (e.isSymbolicLink() && stat(file)?.isFile() === true))) continue;
    if (sniffed++ >= MAX_SNIFFED) break;
    try {
      if (sniffPart(file).kind !== 'ignored') return true;
    } catch {
      return true; // unreadable: the loader will say what is wrong with it, in the capture's row
    }
  }
  return false;
}

export function findCaptures(paths: readonly string[], recursive: boolean): FoundCaptures {
  const found: FoundCaptures = { captures: [], skipped: [] };
  if (!recursive) {
    for (const p of paths) found.captures.push({ path: p, label: tidy(p) });
    return found;
  }
  /** Directories visited (real paths), with the label of the capture or search that took each. */
  const seen = new Map<string, string>();
  for (const given of paths) {
    const root = tidy(given);
    const label = (rel: string): string => (rel === '' ? root : paths.length > 1 ? path.join(root, rel) : rel.split(path.sep).join('/'));
    const visit = (dir: string, rel: string, depth: number): number => {
      let real: string;
      try {
        real = fs.realpathSync(dir);
      } catch {
        found.captures.push({ path: dir, label: label(rel) }); // unreadable: a row with its error
        return 1;
      }
      const first = seen.get(real);
      if (first !== undefined) {
        // A link to a directory seen already: one capture analysed twice would count twice.
        found.skipped.push({ path: dir, reason: `the same directory as ${first}` });
        return 0;
      }
      seen.set(real, label(rel));
      let entries: fs.Dirent[];
      try {
        entries = fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => byCodeUnits(a.name, b.name));
      } catch {
        found.captures.push({ path: dir, label: label(rel) });
        return 1;
      }
      if (isCapture(dir, entries)) {
        found.captures.push({ path: dir, label: label(rel) });
        return 1;
      }
      const subdirs = entries.filter((e) => e.isDirectory() || (e.isSymbolicLink() && stat(path.join(dir, e.name))?.isDirectory() === true));
      let n = 0;
      if (depth < MAX_DEPTH) for (const e of subdirs) n += visit(path.join(dir, e.name), path.join(rel, e.name), depth + 1);
      // List the directories where the search found nothing (the deepest: their parents are no news).
      if (n === 0 && (subdirs.length === 0 || depth === 0 || depth >= MAX_DEPTH)) {
        found.skipped.push({ path: dir, reason: subdirs.length === 0 ? 'no capture part in it' : depth >= MAX_DEPTH ? `not searched below ${MAX_DEPTH} levels` : 'no capture in it' });
      }
      return n;
    };
    const st = stat(root);
    if (st === undefined || !st.isDirectory()) found.captures.push({ path: root, label: root });
    else visit(root, '', 0);
  }
  return found;
}
