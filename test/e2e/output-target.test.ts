/**
 * `-o PATH` writes into what is there instead of replacing it (issue 11 item 11): a regular file
 * or a new path is written atomically (temporary file + rename) and keeps its mode; a symlink is
 * followed to its target; a FIFO or device node is written straight into; a directory is refused
 * naming the path the user gave. Only temporary FIFOs, symlinks and device nodes are used — never
 * /dev/full or /dev/stdout themselves (as root, the unfixed code replaced them) — and the CLI
 * runs in a child process with a timeout.
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BIN, cli, REPO } from '../helpers/cli.js';

const SAMPLE = path.join(REPO, 'samples', 'bhyve-host');
const dirs: string[] = [];
const tmp = (): string => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'dmarsift-o-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

/** What `checks --format json` prints: a small, fixed report to compare outputs with. */
const REPORT = cli(['checks', '--format', 'json']).stdout;

function mkfifo(p: string): void {
  const r = spawnSync('mkfifo', [p]);
  if (r.status !== 0) throw new Error(`mkfifo failed: ${r.stderr}`);
}

/** Run the CLI writing to a FIFO while this process reads it; both bounded by a timeout. */
function runIntoFifo(args: string[], fifo: string): Promise<{ status: number | null; stderr: string; read: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
    const reader = spawn('cat', [fifo], { stdio: ['ignore', 'pipe', 'ignore'] });
    let stderr = '';
    let read = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    reader.stdout.on('data', (d: Buffer) => (read += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reader.kill('SIGKILL');
    }, 15_000);
    let status: number | null = null;
    let pending = 2;
    const done = (): void => {
      if (--pending === 0) {
        clearTimeout(timer);
        resolve({ status, stderr, read });
      }
    };
    child.on('error', reject);
    reader.on('error', reject);
    child.on('close', (s) => {
      status = s;
      done();
    });
    reader.on('close', done);
  });
}

describe('-o into what is already there', () => {
  it('a new path gets the report, and no temporary file is left', () => {
    const d = tmp();
    const out = path.join(d, 'checks.json');
    const r = cli(['checks', '--format', 'json', '-o', out]);
    expect(r.status, r.stderr).toBe(0);
    expect(fs.readFileSync(out, 'utf8')).toBe(REPORT);
    expect(fs.readdirSync(d)).toEqual(['checks.json']);
  });

  it('a mode-600 file stays mode 600', () => {
    const d = tmp();
    const out = path.join(d, 'secret.json');
    fs.writeFileSync(out, 'old', { mode: 0o600 });
    fs.chmodSync(out, 0o600);
    const r = cli(['checks', '--format', 'json', '-o', out]);
    expect(r.status, r.stderr).toBe(0);
    expect(fs.statSync(out).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(out, 'utf8')).toBe(REPORT);
  });

  it('a symlink stays a symlink; its target gets the report', () => {
    const d = tmp();
    const target = path.join(d, 'real.json');
    const link = path.join(d, 'link.json');
    fs.writeFileSync(target, 'old');
    fs.chmodSync(target, 0o640);
    fs.symlinkSync('real.json', link);
    const r = cli(['checks', '--format', 'json', '-o', link]);
    expect(r.status, r.stderr).toBe(0);
    expect(fs.lstatSync(link).isSymbolicLink()).toBe(true);
    expect(fs.readlinkSync(link)).toBe('real.json');
    expect(fs.readFileSync(target, 'utf8')).toBe(REPORT);
    expect(fs.statSync(target).mode & 0o777).toBe(0o640);
    expect(fs.readdirSync(d).sort()).toEqual(['link.json', 'real.json']);
  });

  it('a dangling symlink creates its target and stays a symlink', () => {
    const d = tmp();
    const link = path.join(d, 'link.json');
    fs.symlinkSync('made.json', link);
    const r = cli(['checks', '--format', 'json', '-o', link]);
    expect(r.status, r.stderr).toBe(0);
    expect(fs.lstatSync(link).isSymbolicLink()).toBe(true);
    expect(fs.readFileSync(path.join(d, 'made.json'), 'utf8')).toBe(REPORT);
  });

  it('a FIFO is written into and stays a FIFO', async () => {
    const d = tmp();
    const fifo = path.join(d, 'pipe');
    mkfifo(fifo);
    const r = await runIntoFifo(['checks', '--format', 'json', '-o', fifo], fifo);
    expect(r.status, r.stderr).toBe(0);
    expect(r.read).toBe(REPORT);
    expect(fs.lstatSync(fifo).isFIFO()).toBe(true);
    expect(fs.readdirSync(d)).toEqual(['pipe']);
  });

  it('a symlink to a FIFO (as /dev/stdout is to a pipe) is written into; both stay', async () => {
    const d = tmp();
    const fifo = path.join(d, 'pipe');
    const link = path.join(d, 'stdout');
    mkfifo(fifo);
    fs.symlinkSync(fifo, link);
    const r = await runIntoFifo(['analyze', SAMPLE, '--format', 'json', '-o', link], fifo);
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.read).schemaVersion).toBe(1);
    expect(fs.lstatSync(link).isSymbolicLink()).toBe(true);
    expect(fs.lstatSync(fifo).isFIFO()).toBe(true);
  });

  it('a device node is written into, not replaced (a temporary null device; root only)', (ctx) => {
    const d = tmp();
    const dev = path.join(d, 'null');
    if (spawnSync('mknod', [dev, 'c', '1', '3']).status !== 0) {
      ctx.skip(); // not root, or no CAP_MKNOD here
      return;
    }
    const r = cli(['checks', '--format', 'json', '-o', dev]);
    expect(r.status, r.stderr).toBe(0);
    expect(fs.lstatSync(dev).isCharacterDevice()).toBe(true);
    expect(fs.readdirSync(d)).toEqual(['null']);
  });

  it('a directory is refused, naming the path given (not a temporary name)', () => {
    const d = tmp();
    const given = path.join(d, 'reports');
    fs.mkdirSync(given);
    const r = cli(['checks', '-o', given]);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(`dmarsift: ${given}: is a directory\n`);
    expect(fs.readdirSync(given)).toEqual([]);
    expect(fs.readdirSync(d)).toEqual(['reports']);
  });

  it('a relative path is named as given', () => {
    const d = tmp();
    fs.mkdirSync(path.join(d, 'reports'));
    const r = cli(['checks', '-o', 'reports'], { cwd: d });
    expect(r.stderr).toBe('dmarsift: reports: is a directory\n');
  });

  it('a failed run leaves an existing file as it was', () => {
    const d = tmp();
    const out = path.join(d, 'model.json');
    fs.writeFileSync(out, 'previous');
    const r = cli(['decode', '/nonexistent/capture', '--format', 'json', '-o', out]);
    expect(r.status).toBe(2);
    expect(fs.readFileSync(out, 'utf8')).toBe('previous');
    expect(fs.readdirSync(d)).toEqual(['model.json']);
  });
});
