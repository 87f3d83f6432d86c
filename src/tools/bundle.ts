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
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { WRAP_HEAD, WRAP_TAIL } from '../cli/bundle-loader.js';

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

/**
 * yargs loads node:assert for two invariant checks (notStrictEqual, strictEqual), and loading it
 * costs ~2.7 ms of every run. In the bundle its require gets these two, with assert's meaning
 * (Object.is), throwing as assert would.
 */
const assertPlugin: import('esbuild').Plugin = {
  name: 'yargs-assert',
  setup(build) {
    build.onResolve({ filter: /^(node:)?assert$/ }, (args) =>
      args.importer.includes(`${path.sep}node_modules${path.sep}yargs${path.sep}`) ? { path: 'assert', namespace: 'dmarsift-assert' } : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'dmarsift-assert' }, () => ({
      contents: [
        'const fail = (message, text) => { throw Object.assign(new Error(message ?? text), { code: "ERR_ASSERTION" }); };',
        'exports.notStrictEqual = (a, b, message) => { if (Object.is(a, b)) fail(message, "expected a value other than " + String(b)); };',
        'exports.strictEqual = (a, b, message) => { if (!Object.is(a, b)) fail(message, "expected " + String(b) + ", got " + String(a)); };',
      ].join('\n'),
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
      const edits: [string, string, string][] = [
        // In the CLI's CommonJS chunks `__dirname` is dist/bundle/ (bundle-loader.ts), where the
        // translations are copied; no worker bundles yargs.
        ['re(__dirname,"../locales")', 're(__dirname,"yargs/locales")', 'finds its locales'],
        // Its platform shim read the terminal's width when loaded, making process.stdout in every
        // run (node's stream modules, ~2–4 ms; cli/terminal.ts); as a getter only help reads it.
        ['stdColumns:void 0!==process.stdout.columns?process.stdout.columns:null', 'get stdColumns(){return void 0!==process.stdout.columns?process.stdout.columns:null}', 'reads the terminal width'],
      ];
      let contents = source;
      for (const [from, to, what] of edits) {
        if (contents.split(from).length !== 2) throw new Error(`${index}: yargs no longer ${what} as this bundle expects (update src/tools/bundle.ts)`);
        contents = contents.replace(from, to);
      }
      return { contents, resolveDir: path.dirname(index), loader: 'js' };
    });
  },
};

fs.rmSync(OUT, { recursive: true, force: true });
const esbuild = await loadEsbuild();
if (esbuild === undefined) process.exit(0);
const common = {
  outdir: OUT,
  bundle: true,
  platform: 'node',
  target: 'node20',
  plugins: [tableWidthPlugin, yargsPlugin, assertPlugin],
  logLevel: 'warning',
  metafile: true,
  // Whitespace and comments out (names kept, for profiles): V8 compiles a smaller text faster,
  // and with the comments gone the text is plain ASCII (esbuild escapes strings), which the
  // loader reads as Latin-1 without decoding UTF-8 (checked below).
  minifyWhitespace: true,
} satisfies import('esbuild').BuildOptions;

/**
 * The CLI: split among its commands and reporters as ES modules (esbuild splits no other
 * format), then each chunk turned into a CommonJS function body that src/cli/bundle-loader.ts
 * compiles with a V8 code cache (node 20 caches no ES module; see there). `import.meta.url`
 * becomes the loader's `__dmarsiftUrl`, and `import()` a `require` the loader answers. Only the
 * CLI's chunks are split among themselves: bundled with the workers, every module the workers share
 * with some commands but not others became a chunk of its own (~0.5 ms a file). Threads share no
 * module instances, so the workers lose nothing by having their own copies.
 */
const cli = await esbuild.build({
  ...common,
  splitting: true,
  format: 'esm',
  write: false,
  entryPoints: { main: path.join(DIST, 'cli', 'main.js') },
});
fs.mkdirSync(OUT, { recursive: true });
for (const out of cli.outputFiles) {
  let { code } = esbuild.transformSync(out.text, {
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    minifyWhitespace: true,
    define: { 'import.meta.url': '__dmarsiftUrl' },
    supported: { 'dynamic-import': false },
    logLevel: 'warning',
  });
  // `import * as fs from 'node:fs'` became __toESM(require("node:fs")): a copy of every export
  // of the module behind getters (~0.3 ms each, a dozen in `analyze`'s chunks, and a getter call
  // on every use). Node's own modules are plain objects whose exports the sources only read by
  // name (no source imports a node module's default), so the module itself serves.
  code = code.replace(/__toESM\(require\("(node:[a-z_/]+)"\)\)/g, 'require("$1")');
  const at = Buffer.from(code).findIndex((byte) => byte > 0x7f);
  if (at >= 0) throw new Error(`${out.path}: a character beyond ASCII at ${at} (the loader reads chunks as Latin-1)`);
  fs.writeFileSync(out.path.replace(/\.js$/, '.cjs'), WRAP_HEAD + code + WRAP_TAIL);
}
const loader = await esbuild.build({ ...common, format: 'cjs', entryPoints: { load: path.join(DIST, 'cli', 'bundle-loader.js') }, outExtension: { '.js': '.cjs' } });
/**
 * Worker threads start from an ES module file (src/scan/pool.ts and src/fleet/pool.ts find theirs
 * beside the chunk that starts them); the benchmark's two floors and its probe are plain CommonJS
 * scripts like the CLI's entry, so both sides of its ratios start alike.
 */
const workers = await esbuild.build({
  ...common,
  splitting: true,
  format: 'esm',
  banner: {
    js: [
      "import { createRequire as dmarsiftCreateRequire } from 'node:module';",
      'const require = dmarsiftCreateRequire(import.meta.url);',
    ].join('\n'),
  },
  entryPoints: { 'scan-worker': path.join(DIST, 'scan', 'scan-worker.js'), 'fleet-worker': path.join(DIST, 'fleet', 'fleet-worker.js') },
});
const floors = await esbuild.build({
  ...common,
  format: 'cjs',
  outExtension: { '.js': '.cjs' },
  entryPoints: {
    floor: path.join(DIST, 'bench', 'floor.js'),
    'phys-floor': path.join(DIST, 'bench', 'phys-floor.js'),
    // What the benchmark preloads into every process it measures (src/bench/measure.ts).
    'rss-probe': path.join(DIST, 'bench', 'rss-probe.js'),
  },
});
fs.mkdirSync(YARGS_LOCALES, { recursive: true });
for (const f of fs.readdirSync(path.join(YARGS_DIR, 'locales'))) fs.copyFileSync(path.join(YARGS_DIR, 'locales', f), path.join(YARGS_LOCALES, f));

/**
 * The code caches (src/cli/bundle-loader.ts): a few runs of the CLI on the bundled samples, each
 * extending the caches of the chunks it loads with the functions it compiled — `analyze` with both
 * reports, `decode` — so what a run compiles at start is in them. What they leave out (another
 * command, a rarer report) is compiled as it would be without a cache. Without the samples (an
 * installed package builds nothing) there are no caches and nothing else changes.
 */
const TRAINING_RUNS = [
  ['analyze', 'samples/healthy-two-vms', '--format', 'json'],
  ['analyze', 'samples/hpa-leak-shared'],
  ['decode', 'samples/bhyve-host', '--format', 'json'],
];
const REPO = path.dirname(DIST);
if (TRAINING_RUNS.every((run) => fs.existsSync(path.join(REPO, run[1])))) {
  for (const run of TRAINING_RUNS) {
    const r = spawnSync(process.execPath, [path.join(REPO, 'bin', 'dmarsift.js'), ...run], {
      cwd: REPO,
      env: { ...process.env, DMARSIFT_CODE_CACHE: 'write', DMARSIFT_TIMING: '' },
      stdio: ['ignore', 'ignore', 'pipe'],
      encoding: 'utf8',
    });
    // 0: no findings, 1: findings; anything else is a broken bundle.
    if (r.status !== 0 && r.status !== 1) throw new Error(`dmarsift ${run.join(' ')} (training the code caches) exited ${r.status ?? r.signal}: ${r.stderr}`);
  }
}
const outputs = [cli, loader, workers, floors].flatMap((b) => Object.values(b.metafile.outputs));
const files = outputs.length;
const bytes = outputs.reduce((n, o) => n + o.bytes, 0);
process.stdout.write(`bundled dist/ into ${path.relative(process.cwd(), OUT) || OUT}: ${files} files, ${(bytes / 1024).toFixed(0)} KiB\n`);
