#!/usr/bin/env node
// CommonJS (bin/package.json says so): node starts a CommonJS entry without setting up its ES
// module loader, and the bundle (npm run build / prepare) needs none — its loader compiles each
// chunk with a V8 code cache (src/cli/bundle-loader.ts). Without the bundle, tsc's ES modules.
// Once main is done and nothing is left to write, exit at once: left to itself node first waits for
// the background compiler and GC threads to finish work nobody will use (~5–15 ms of every run).
// Only a stream the run made can hold output: asking process.stdout whether it is empty would make
// it, loading node's stream modules (~2–4 ms), in a run that wrote its report with fs.writeSync.
'use strict';
const { existsSync } = require('node:fs');
const path = require('node:path');
const made = [];
for (const name of ['stdout', 'stderr']) {
  const d = Object.getOwnPropertyDescriptor(process, name);
  if (d?.get && d.configurable) Object.defineProperty(process, name, { ...d, get() { if (!made.includes(name)) made.push(name); return d.get.call(this); } });
}
const bundle = path.join(__dirname, '..', 'dist', 'bundle');
const flushed = () => made.every((name) => process[name].writableLength === 0);
const cli = existsSync(path.join(bundle, 'load.cjs'))
  ? Promise.resolve().then(() => require(path.join(bundle, 'load.cjs')).bundleLoader(bundle).load('./main.js'))
  : import('../dist/cli/main.js');
cli.then((m) => m.main(process.argv.slice(2))).then(() => { if (flushed()) process.exit(); }).catch((e) => { process.stderr.write(`dmarsift: internal error: ${e?.message ? e.message : e}\n`); process.exit(2); });
