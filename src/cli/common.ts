/** Small pieces every command handler shares. */
import { loadCapture } from '../capture/load.js';
import { InputError } from '../errors.js';
import type { Snapshot } from '../model/types.js';
import type { ShowPath } from '../report/format.js';
import { captureOptionsFrom } from './capture-options.js';
import type { Output } from './output.js';
import { namedAsGiven, pathNamer, type PathNamer } from './paths.js';
import { mib, stderrProgress } from './progress.js';
import { mark } from './timing.js';

/** Colour only on a TTY, never with NO_COLOR or --no-color; --color forces it. */
export function useColor(argv: Record<string, unknown>, out: Output): boolean {
  if (argv.color === false) return false;
  if (argv.color === true) return true;
  if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '') return false;
  return out.isTTY;
}

/** How this command line names the capture `key` and its parts: as the user gave them. */
export function namerFromArgv(argv: Record<string, unknown>, key = 'capture'): PathNamer {
  return pathNamer(String(argv[key] ?? ''), captureOptionsFrom(argv));
}

/**
 * The reports' ShowPath for `snapshot` (loaded from capture `key`): its parts as the user gave
 * them. A source that is no part of it (`--rtaddr`, a fallback name) is printed as it is.
 */
export function showPathFor(argv: Record<string, unknown>, snapshot: Snapshot, key = 'capture'): ShowPath {
  const namer = namerFromArgv(argv, key);
  const parts = new Set(snapshot.capture.parts.map((p) => p.path));
  return (p) => (parts.has(p) ? namer.part(p) : p);
}

/**
 * Run `body`, naming the file of an InputError it throws as the user gave it: the readers name
 * files in several forms (resolved, relative to the capture).
 */
export function withPathsAsGiven<T>(argv: Record<string, unknown>, body: () => T, key = 'capture'): T {
  try {
    return body();
  } catch (e) {
    throw e instanceof InputError ? namedAsGiven(e, namerFromArgv(argv, key)) : e;
  }
}

export function loadFromArgv(argv: Record<string, unknown>, key = 'capture'): Snapshot {
  const progress = stderrProgress(argv);
  try {
    return withPathsAsGiven(argv, () => loadCapture(String(argv[key] ?? ''), {
      ...captureOptionsFrom(argv),
      onImageRead: (n, size) => progress.update(`dmarsift: walking tables in a ${mib(size)} image: ${mib(n)} read`),
    }), key);
  } finally {
    progress.done();
    mark(`${key} loaded`);
  }
}

/** Run `body` against an output, committing it only when `body` finished. */
export function withOutput<T>(out: Output, body: () => T): T {
  try {
    const r = body();
    out.finish();
    return r;
  } catch (e) {
    out.abort();
    throw e;
  }
}
