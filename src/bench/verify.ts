/**
 * The benchmark's correctness checks, so that no shortcut passes for speed: `decode --format json`
 * must report every VM domain with the bytes the generator mapped, its mappings must add up to
 * them, and `translate` must give the host address the generator placed at random IOVAs.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { BigCapture } from './big-capture.js';
import { REPO } from './measure.js';

export interface Verified {
  ok: boolean;
  /** What was wrong, one line each. */
  errors: string[];
  mappings: number;
  translations: number;
}

/** Decode `cap` to a file in `scratch` and check it; then the sampled translations. */
export function verifyCapture(bin: string, cap: BigCapture, scratch: string): Verified {
  const out = path.join(scratch, `${cap.name}-decode.json`);
  const errors: string[] = [];
  let mappings = 0;
  try {
    const r = spawnSync(process.execPath, [bin, 'decode', cap.dir, '--format', 'json', '-o', out], { cwd: REPO, encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] });
    if (r.status !== 0) return { ok: false, errors: [`decode exited ${r.status}: ${r.stderr.trim().split('\n')[0]}`], mappings: 0, translations: 0 };
    const domains = scanDecodeJson(out);
    mappings = domains.reduce((n, d) => n + d.mappings, 0);
    if (domains.length !== cap.domains.length) errors.push(`decode lists ${domains.length} domains, expected ${cap.domains.length}`);
    cap.domains.forEach((want, i) => {
      const got = domains[i];
      if (got === undefined) return;
      if (got.mappedBytes !== want.mappedBytes) errors.push(`domain ${i + 1}: mappedBytes 0x${got.mappedBytes.toString(16)}, expected 0x${want.mappedBytes.toString(16)}`);
      if (got.sizeSum !== want.mappedBytes) errors.push(`domain ${i + 1}: its mappings add up to 0x${got.sizeSum.toString(16)} bytes, expected 0x${want.mappedBytes.toString(16)}`);
    });
  } finally {
    fs.rmSync(out, { force: true });
  }
  for (const t of cap.translations) {
    const r = spawnSync(process.execPath, [bin, 'translate', cap.dir, '--bdf', t.bdf, '--iova', `0x${t.iova.toString(16)}`, '--format', 'json'], { cwd: REPO, encoding: 'utf8' });
    let hpa: string | undefined;
    try {
      hpa = (JSON.parse(r.stdout) as { hpa?: string }).hpa;
    } catch {
      hpa = undefined;
    }
    if (hpa !== `0x${t.hpa.toString(16)}`) errors.push(`translate ${t.bdf} 0x${t.iova.toString(16)}: ${hpa ?? `exit ${r.status}`}, expected 0x${t.hpa.toString(16)}`);
  }
  return { ok: errors.length === 0, errors, mappings, translations: cap.translations.length };
}

/**
 * Each domain's `mappedBytes` and the sum of its mappings' sizes, read from the decode JSON line by
 * line (a 1 TiB VM's is ~125 MB: one mapping per line, after its domain's own fields).
 */
function scanDecodeJson(file: string): { mappedBytes: number; sizeSum: number; mappings: number }[] {
  const domains: { mappedBytes: number; sizeSum: number; mappings: number }[] = [];
  const fd = fs.openSync(file, 'r');
  const buf = Buffer.allocUnsafe(1 << 20);
  let rest = '';
  const line = (l: string): void => {
    const mb = /"mappedBytes": "0x([0-9a-f]+)"/.exec(l);
    if (mb) domains.push({ mappedBytes: parseInt(mb[1], 16), sizeSum: 0, mappings: 0 });
    else if (l.includes('"iova": "') && domains.length > 0) {
      const size = /"size": "0x([0-9a-f]+)"/.exec(l);
      const d = domains[domains.length - 1];
      if (size) d.sizeSum += parseInt(size[1], 16);
      d.mappings++;
    }
  };
  try {
    for (let at = 0; ; ) {
      const n = fs.readSync(fd, buf, 0, buf.length, at);
      if (n === 0) break;
      at += n;
      const lines = (rest + buf.toString('latin1', 0, n)).split('\n');
      rest = lines.pop() ?? '';
      for (const l of lines) line(l);
    }
    line(rest);
  } finally {
    fs.closeSync(fd);
  }
  return domains;
}
