import { describe, expect, it } from 'vitest';
import { compareFindings, displayWidth, humanBytes, sourceLabel, sourceToJson, stripAnsi, wrapText } from '../../src/report/format.js';
import type { Finding } from '../../src/checks/types.js';

describe('format helpers', () => {
  it('humanBytes: exact multiples without decimals, others with one', () => {
    expect(humanBytes(0)).toBe('0 B');
    expect(humanBytes(1023)).toBe('1023 B');
    expect(humanBytes(4096)).toBe('4 KiB');
    expect(humanBytes(0x1f000)).toBe('124 KiB');
    expect(humanBytes(16 * 1024 * 1024)).toBe('16 MiB');
    expect(humanBytes(1.5 * 1024 ** 3)).toBe('1.5 GiB');
    expect(humanBytes(2 ** 64 * 1)).toBe('16 EiB');
    expect(humanBytes(1n << 70n)).toBe('1 ZiB');
    expect(humanBytes(1024 * 1024 + 1)).toBe('1 MiB'); // 1.0000009… rounds to 1.0
  });

  it('sources as the contract spells them', () => {
    expect(sourceToJson({ part: 'm.elf', offset: 4096 })).toEqual({ part: 'm.elf', offset: '0x1000' });
    expect(sourceToJson({ part: 'd.txt', line: 3 })).toEqual({ part: 'd.txt', line: 3 });
    expect(sourceToJson(undefined)).toBeNull();
    expect(sourceLabel({ part: 'm.elf', offset: 4096 })).toBe('m.elf@0x1000');
    expect(sourceLabel({ part: 'd.txt', line: 3 })).toBe('d.txt:3');
  });

  it('wraps without losing characters, breaking over-long words', () => {
    expect(wrapText('aaa bbb ccc', 7)).toEqual(['aaa bbb', 'ccc']);
    expect(wrapText('abcdefghij', 4)).toEqual(['abcd', 'efgh', 'ij']);
    expect(wrapText('x abcdefghij', 4)).toEqual(['x', 'abcd', 'efgh', 'ij']);
    expect(wrapText('', 4)).toEqual(['']);
  });

  it('measures display width without ANSI codes, wide characters as two', () => {
    expect(displayWidth('\x1b[1;31mcritical\x1b[0m')).toBe(8);
    expect(stripAnsi('\x1b[31mred\x1b[0m')).toBe('red');
    expect(displayWidth('日本')).toBe(4);
    expect(displayWidth('a — b')).toBe(5);
  });

  it('orders findings by severity, then check, unit, BDF, DID', () => {
    const f = (check: string, severity: Finding['severity'], bdf?: string): Finding => ({ check, severity, message: '', evidence: {}, bdf });
    const list = [f('b', 'info'), f('a', 'error', '0000:01:00.0'), f('a', 'error', '0000:00:01.0'), f('z', 'critical')];
    expect(list.sort(compareFindings).map((x) => `${x.check}${x.bdf ?? ''}`)).toEqual(['z', 'a0000:00:01.0', 'a0000:01:00.0', 'b']);
  });
});
