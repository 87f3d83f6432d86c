#!/usr/bin/env node
// The bundle (npm run build / prepare) when it is there; tsc's module tree otherwise.
import { existsSync } from "node:fs";
const bundled = new URL("../dist/bundle/main.js", import.meta.url);
import(existsSync(bundled) ? bundled.href : "../dist/cli/main.js").then((m) => m.main(process.argv.slice(2))).catch((e) => { process.stderr.write(`dmarsift: internal error: ${e?.message ? e.message : e}\n`); process.exit(2); });
