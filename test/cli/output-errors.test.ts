/**
 * A write that fails (a full disk, an I/O error) is an error naming the output, exit 2 — not an
 * "internal error … please report it" (issue 11 item 12). The failing write is mocked: no test
 * touches /dev/full.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';

const failWith = vi.hoisted(() => ({ code: undefined as string | undefined, fd: undefined as number | undefined }));

vi.mock('node:fs', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs')>();
  const writeSync = ((fd: number, ...rest: unknown[]) => {
    if (failWith.code !== undefined && (failWith.fd === undefined || failWith.fd === fd)) {
      const e = new Error(`${failWith.code}: simulated, write`) as NodeJS.ErrnoException;
      e.code = failWith.code;
      e.syscall = 'write';
      throw e;
    }
    return (real.writeSync as (...a: unknown[]) => number)(fd, ...rest);
  }) as typeof real.writeSync;
  return { ...real, default: { ...real, writeSync }, writeSync };
});

const { openOutput } = await import('../../src/cli/output.js');
const { reportError } = await import('../../src/cli/errors.js');

function stderrOf(fn: () => number): { code: number; text: string } {
  let text = '';
  const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    text += String(chunk);
    return true;
  });
  try {
    return { code: fn(), text };
  } finally {
    spy.mockRestore();
  }
}

afterEach(() => {
  failWith.code = undefined;
  failWith.fd = undefined;
});

describe('a failing write', () => {
  it('ENOSPC on stdout is an I/O error naming stdout, exit 2', () => {
    const out = openOutput(undefined);
    out.write('report\n');
    failWith.code = 'ENOSPC';
    failWith.fd = 1;
    let thrown: unknown;
    try {
      out.finish();
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeDefined();
    const { code, text } = stderrOf(() => reportError(thrown));
    expect(code).toBe(2);
    expect(text).not.toMatch(/internal error|please report/);
    expect(text).toMatch(/^dmarsift: (standard output|stdout): /);
    expect(text).toMatch(/no space left on device/);
    expect(text.trimEnd().split('\n')).toHaveLength(1);
    // The error is not raised again when the partial output is dropped.
    expect(() => out.abort()).not.toThrow();
  });

  it('EIO on an --output file names the path the user gave', async () => {
    const fs = await import('node:fs');
    const os = await import('node:os');
    const path = await import('node:path');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dmarsift-out-'));
    const given = path.join(dir, 'report.txt');
    const out = openOutput(given);
    out.write('x'.repeat(100));
    failWith.code = 'EIO';
    let thrown: unknown;
    try {
      out.finish();
    } catch (e) {
      thrown = e;
    }
    failWith.code = undefined;
    out.abort();
    const { code, text } = stderrOf(() => reportError(thrown));
    expect(code).toBe(2);
    expect(text).toBe(`dmarsift: ${given}: cannot write: I/O error (EIO)\n`);
    // Nothing half-written is left behind.
    expect(fs.readdirSync(dir)).toEqual([]);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
