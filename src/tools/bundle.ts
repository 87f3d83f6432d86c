/**
 * The last step of `npm run build` (and of `prepare`, so `npm ci` gives it): bundle what tsc wrote
 * to dist/ into dist/bundle/, one file per command plus shared chunks, which bin/dmarsift.js runs.
 *
 * Why: node's start-up is in every figure `npm run bench` compares, and node loads an ES module
 * graph one file at a time (resolve, read, compile, link): the ~75 modules `analyze` needs cost
 * ~25–30 ms of every run on node 20, a tenth of `analyze` on a 16.8 M-PTE capture. The bundle keeps
 * the lazy loading — each command, reporter and the scan worker is its own entry or split chunk —
 * and changes no code: esbuild only concatenates tsc's output. yargs is bundled in as its ES
 * module build (yargsPlugin below).
 *
 * The files sit side by side in one folder on purpose: the scan's worker is found next to the
 * chunk that starts it (`new URL('./scan-worker.js', import.meta.url)`), and so is a fleet's.
 */
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
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
 * so cli-table3 and our wrapping also agree on every cell's width. yargs' help layout (cliui,
 * wrap-ansi), bundled too, measures the same way.
 */
const tableWidthPlugin: import('esbuild').Plugin = {
  name: 'string-width-display-width',
  setup(build) {
    build.onResolve({ filter: /^string-width$/ }, (args) =>
      args.importer.includes(`${path.sep}node_modules${path.sep}`) ? { path: 'string-width', namespace: 'dmarsift-display-width' } : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'dmarsift-display-width' }, () => ({
      contents: `const { displayWidth } = require(${JSON.stringify(path.join(DIST, 'report', 'format.js'))});\n` +
        `module.exports = (text) => (typeof text === 'string' ? displayWidth(text) : 0);\n`,
      resolveDir: DIST,
      loader: 'js',
    }));
  },
};

const require = createRequire(import.meta.url);
const YARGS_DIR = path.dirname(require.resolve('yargs/package.json'));
/** Where the bundle keeps yargs' message translations (its y18n reads them by the user's locale). */
const YARGS_LOCALES = path.join(OUT, 'yargs', 'locales');

/**
 * dist/cli/yargs.js loads yargs' CommonJS build through createRequire, which esbuild cannot see
 * into: in the bundle it imports the same build, bundled in (its cliui and wrap-ansi then measure
 * with displayWidth, tableWidthPlugin). That build finds its translations at `__dirname/../locales`;
 * in the bundle they are a copy beside it. The edit checks what it replaces, so a yargs upgrade
 * that moves it fails the build instead of silently losing the translations.
 */
const yargsPlugin: import('esbuild').Plugin = {
  name: 'yargs-bundled',
  setup(build) {
    build.onLoad({ filter: /[\\/]cli[\\/]yargs\.js$/ }, (args) =>
      path.dirname(args.path) === path.join(DIST, 'cli')
        ? { contents: "import Yargs from 'yargs/yargs';\nexport const yargs = Yargs;\n", resolveDir: path.join(DIST, 'cli'), loader: 'js' }
        : undefined,
    );
    const index = path.join(YARGS_DIR, 'build', 'index.cjs');
    build.onLoad({ filter: /[\\/]yargs[\\/]build[\\/]index\.cjs$/ }, (args) => {
      if (args.path !== index) return undefined;
      const source = fs.readFileSync(index, 'utf8');
      const own = 're(__dirname,"../locales")';
      if (source.split(own).length !== 2) throw new Error(`${index}: yargs no longer finds its locales as this bundle expects (update src/tools/bundle.ts)`);
      return { contents: source.replace(own, 'dmarsiftYargsLocales'), resolveDir: path.dirname(index), loader: 'js' };
    });
  },
};

fs.rmSync(OUT, { recursive: true, force: true });
const esbuild = await loadEsbuild();
if (esbuild === undefined) process.exit(0);
const common = {
  outdir: OUT,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  plugins: [tableWidthPlugin, yargsPlugin],
  // The CommonJS packages bundled in (yargs and its helpers) require node's own modules, and
  // yargs reads its translations from the copy beside the bundle.
  banner: {
    js: [
      "import { createRequire as dmarsiftCreateRequire } from 'node:module';",
      "import { fileURLToPath as dmarsiftFileURLToPath } from 'node:url';",
      'const require = dmarsiftCreateRequire(import.meta.url);',
      "const dmarsiftYargsLocales = dmarsiftFileURLToPath(new URL('./yargs/locales', import.meta.url));",
    ].join('\n'),
  },
  logLevel: 'warning',
  metafile: true,
  // Whitespace and comments out (names kept, for profiles): node decodes a module's file as
  // UTF-8 and V8 compiles it, both faster on a smaller, plain-ASCII text (esbuild escapes strings;
  // only comments kept other characters, and one "—" makes the whole file a two-byte string).
  minifyWhitespace: true,
} satisfies import('esbuild').BuildOptions;

/**
 * Two builds into one folder. The CLI's chunks are split only among its commands and reporters:
 * bundled with the workers, every module the workers share with some commands but not others
 * became a chunk of its own — `analyze` loaded 26 files, and node reads, compiles and links each
 * apart (~0.5 ms a file). Threads share no module instances, so the workers lose nothing by
 * having their own copies.
 */
const cli = await esbuild.build({ ...common, entryPoints: { main: path.join(DIST, 'cli', 'main.js') } });
const others = await esbuild.build({
  ...common,
  entryPoints: {
    'scan-worker': path.join(DIST, 'scan', 'scan-worker.js'),
    // A fleet run's worker threads (src/fleet/pool.ts finds it beside the chunk that starts it).
    'fleet-worker': path.join(DIST, 'fleet', 'fleet-worker.js'),
    // The benchmark's read floor, built the same way so both sides of its ratio load alike.
    floor: path.join(DIST, 'bench', 'floor.js'),
  },
});
fs.mkdirSync(YARGS_LOCALES, { recursive: true });
for (const f of fs.readdirSync(path.join(YARGS_DIR, 'locales'))) fs.copyFileSync(path.join(YARGS_DIR, 'locales', f), path.join(YARGS_LOCALES, f));
const outputs = [...Object.values(cli.metafile.outputs), ...Object.values(others.metafile.outputs)];
const files = outputs.length;
const bytes = outputs.reduce((n, o) => n + o.bytes, 0);
process.stdout.write(`bundled dist/ into ${path.relative(process.cwd(), OUT) || OUT}: ${files} files, ${(bytes / 1024).toFixed(0)} KiB\n`);
