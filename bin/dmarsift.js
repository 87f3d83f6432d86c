#!/usr/bin/env node
import("../dist/cli/main.js").then((m) => m.main(process.argv.slice(2))).catch((e) => { process.stderr.write(`dmarsift: internal error: ${e && e.message ? e.message : e}\n`); process.exit(2); });
