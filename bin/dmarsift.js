#!/usr/bin/env node
// The bundle (npm run build / prepare) when it is there; tsc's module tree otherwise.
// Once main is done and nothing is left to write, exit at once: left to itself node first waits for
// the background compiler and GC threads to finish work nobody will use (~5–15 ms of every run).
import { existsSync } from "node:fs";
const bundled = new URL("../dist/bundle/main.js", import.meta.url);
const flushed = () => process.stdout.writableLength === 0 && process.stderr.writableLength === 0;
import(existsSync(bundled) ? bundled.href : "../dist/cli/main.js").then((m) => m.main(process.argv.slice(2))).then(() => { if (flushed()) process.exit(); }).catch((e) => { process.stderr.write(`dmarsift: internal error: ${e?.message ? e.message : e}\n`); process.exit(2); });
