/**
 * The last step of `npm run build` (and of `prepare`, so `npm ci` gives it): bundle what tsc wrote
 * to dist/ into dist/bundle/, one file per command plus shared chunks, which bin/dmarsift.js runs.
 *
 * Why: node's start-up is in every figure `npm run bench` compares, and node loads an ES module
 * graph one file at a time (resolve, read, compile, link): the ~75 modules `analyze` needs cost
 * ~25–30 ms of every run on node 20, a tenth of `analyze` on a 16.8 M-PTE capture. The bundle keeps
 * the lazy loading — each command, reporter and the scan worker is its own entry or split chunk —
 * and changes no code: esbuild only concatenates tsc's output. yargs' CommonJS build and its
 * dependencies (15 files node would resolve, read and compile one by one: a third of what
 * `dmarsift --version` cost over `node -e 0`) are in main.js too (see yargsInBundle).
 *
 * The files sit side by side in one folder on purpose: the scan's worker is found next to the
 * chunk that starts it (`new URL('./scan-worker.js', import.meta.url)`).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** esbuild is a dev dependency with a native binary: without it the CLI runs tsc's modules. */
async function loadEsbuild(): Promise<typeof import('esbuild') | undefined> {
  try {
    return await import('esbuild');
  } catch (e) {
    process.stderr.write(`dmarsift build: esbuild is not available (${(e as Error).message.split('\n')[0]}); bin/dmarsift.js will run dist/cli/ unbundled\n`);
    return undefined;
  }
}

const DIST = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const OUT = path.join(DIST, 'bundle');

/**
 * cli-table3 measures every cell, several times, with string-width 4, which builds ansi-regex's
 * pattern and instantiates a 10 KB emoji pattern on every call (~30 µs a call; a findings table of
 * 15 findings made thousands of calls). In the bundle it measures with the reporters' own
 * displayWidth (src/report/format.ts) instead — one precompiled ANSI pattern, a code-point loop —
 * so cli-table3 and our wrapping also agree on every cell's width. Only cli-table3's import is
 * redirected; yargs keeps its own.
 */
const tableWidthPlugin: import('esbuild').Plugin = {
  name: 'cli-table3-display-width',
  setup(build) {
    build.onResolve({ filter: /^string-width$/ }, (args) =>
      args.importer.includes(`${path.sep}cli-table3${path.sep}`) ? { path: 'string-width', namespace: 'dmarsift-display-width' } : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'dmarsift-display-width' }, () => ({
      contents: `const { displayWidth } = require(${JSON.stringify(path.join(DIST, 'report', 'format.js'))});\n` +
        `module.exports = (text) => (typeof text === 'string' ? displayWidth(text) : 0);\n`,
      resolveDir: DIST,
      loader: 'js',
    }));
  },
};

/**
 * The CLI loads yargs 17's CommonJS build through createRequire (src/cli/main.ts: unbundled, the
 * ESM build would load as a graph of modules). Here that call becomes a plain `require`, which
 * esbuild bundles with the "require" condition — the same CommonJS files, in main.js. Their own
 * `require`s of node's modules go through the banner's createRequire; y18n finds yargs' locales
 * beside the bundle (`__dirname` of yargs' build is dist/bundle/yargs, its locales ../locales).
 * The build fails if main.js no longer has the call, rather than quietly leaving yargs out.
 */
const YARGS_LOAD = "createRequire(import.meta.url)('yargs/yargs')";
const yargsInBundle: import('esbuild').Plugin = {
  name: 'yargs-in-bundle',
  setup(build) {
    build.onLoad({ filter: /[\\/]dist[\\/]cli[\\/]main\.js$/ }, (args) => {
      const source = fs.readFileSync(args.path, 'utf8');
      if (!source.includes(YARGS_LOAD)) throw new Error(`${args.path} no longer loads yargs with ${YARGS_LOAD}: update src/tools/bundle.ts`);
      return { contents: source.replace(YARGS_LOAD, "require('yargs/yargs')"), loader: 'js' };
    });
  },
};
const BANNER = [
  "import { createRequire as __dmarsiftCreateRequire } from 'node:module';",
  "import { fileURLToPath as __dmarsiftFileURLToPath } from 'node:url';",
  'const require = __dmarsiftCreateRequire(import.meta.url);',
  "const __dmarsiftYargsDir = __dmarsiftFileURLToPath(new URL('./yargs', import.meta.url));",
].join(' ');

fs.rmSync(OUT, { recursive: true, force: true });
const esbuild = await loadEsbuild();
if (esbuild === undefined) process.exit(0);
const result = await esbuild.build({
  entryPoints: {
    main: path.join(DIST, 'cli', 'main.js'),
    'scan-worker': path.join(DIST, 'scan', 'scan-worker.js'),
    // The benchmark's read floor, built the same way so both sides of its ratio load alike.
    floor: path.join(DIST, 'bench', 'floor.js'),
  },
  outdir: OUT,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  banner: { js: BANNER },
  define: { __dirname: '__dmarsiftYargsDir' },
  plugins: [tableWidthPlugin, yargsInBundle],
  logLevel: 'warning',
  metafile: true,
});
// yargs' messages in the user's language, where y18n looks for them (see yargsInBundle).
const locales = path.join(path.dirname(createRequire(import.meta.url).resolve('yargs/package.json')), 'locales');
fs.cpSync(locales, path.join(OUT, 'locales'), { recursive: true });
if (process.env.DMARSIFT_BUNDLE_META) fs.writeFileSync(process.env.DMARSIFT_BUNDLE_META, JSON.stringify(result.metafile));
const files = Object.keys(result.metafile.outputs).length;
const bytes = Object.values(result.metafile.outputs).reduce((n, o) => n + o.bytes, 0);
process.stdout.write(`bundled dist/ into ${path.relative(process.cwd(), OUT) || OUT}: ${files} files, ${(bytes / 1024).toFixed(0)} KiB\n`);
