/**
 * dmarsift's command line. Commands are declared here (so `--help` needs nothing else) and their
 * handlers load what they need only when they run: node's start-up is part of every figure in the
 * benchmark, so `dmarsift checks` must not pay for the image readers.
 */
import type { Argv } from 'yargs';
import { addCaptureOptions, REPEATABLE_CAPTURE_OPTIONS } from './capture-options.js';
import { EXIT_ERROR, reportError } from './errors.js';
import { isTerminal } from './terminal.js';
import { outputWidth } from './width.js';
import { mark, printTiming } from './timing.js';
import { yargs } from './yargs.js';
import { UsageError } from '../errors.js';
import { VERSION } from '../version.js';

type Handler = (argv: Record<string, unknown>) => Promise<number>;

const FORMATS_ANALYZE = ['table', 'json', 'markdown', 'sarif', 'junit', 'html'] as const;
const FAIL_ON = ['none', 'info', 'warning', 'error', 'critical'] as const;

/** Options that may be given more than once, one value per use (yargs collects the uses in an array). */
// (`capture` is analyze's list of captures, a positional.)
const REPEATABLE = new Set<string>([...REPEATABLE_CAPTURE_OPTIONS, 'check', 'skip', 'require', 'output-format', 'capture']);

/**
 * yargs turns a second use of any option into an array; for an option that takes one value that
 * would be read as the two joined by a comma. Refuse it, naming the option as the user spelt it.
 */
function refuseRepeatedSingles(argv: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(argv)) {
    if (key === '_' || key === '$0' || !Array.isArray(value)) continue;
    // yargs keeps `memory-map` also as `memoryMap`: judge the spelling users type.
    const kebab = key.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
    if (REPEATABLE.has(kebab) || (kebab !== key && kebab in argv)) continue;
    throw new UsageError(`${key.length === 1 ? '-' : '--'}${key} takes one value; it was given ${value.length} times`);
  }
}

function common<T>(y: Argv<T>) {
  return y
    .option('output', { alias: 'o', type: 'string', describe: 'write to FILE instead of stdout: written whole, then renamed into place keeping its mode (on an error before the output is complete, the file is left as it was); a FIFO or device is written into, a symlink followed' })
    .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'print nothing but the result; no progress' })
    .option('color', { type: 'boolean', describe: 'colour the table (default: on a TTY unless NO_COLOR is set); --no-color turns it off' });
}

const COMMANDS = ['decode', 'analyze', 'translate', 'diff', 'scan', 'capture', 'checks'] as const;

/** Edit distance, for "did you mean": commands are short, so the plain O(n·m) table is fine. */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length];
}

/**
 * The first word that is not an option must be a command. yargs would call anything else an
 * "Unknown argument"; say it is no command, and list the ones there are.
 */
function refuseUnknownCommand(args: string[]): void {
  const word = args.find((a) => !a.startsWith('-'));
  if (word === undefined || (COMMANDS as readonly string[]).includes(word) || word === 'help') return;
  const near = COMMANDS.map((c) => ({ c, d: distance(word.toLowerCase(), c) })).sort((x, y) => x.d - y.d)[0];
  const hint = near.d <= Math.max(1, Math.floor(near.c.length / 3)) ? `: did you mean ${near.c}?` : '';
  throw new UsageError(`unknown command ${JSON.stringify(word)}${hint} (commands: ${COMMANDS.join(', ')})`);
}

/** One command: its usage line, description, options and examples, and its handler's module (loaded only when it runs). */
interface CommandDef {
  command: string;
  describe: string;
  builder: (y: Argv) => Argv<unknown>;
  load: () => Promise<{ run: Handler }>;
}

const COMMAND_DEFS: CommandDef[] = [
  {
    command: 'decode <capture>',
    describe: 'decode a capture into the model and print it (dmardump-like table by default)',
    builder: (y) =>
      addCaptureOptions(common(y))
        .positional('capture', { type: 'string', describe: 'capture directory or file' })
        .option('format', { alias: 'f', choices: ['table', 'json'] as const, default: 'table' as const, describe: 'output format' })
        .option('mappings', { type: 'boolean', default: false, describe: 'table: list every mapping range of each domain' })
        .example('$0 decode samples/bhyve-host', 'print the units, context entries and domains of a sample')
        .example('$0 decode capture/ --format json -o model.json', 'the model as JSON (schema/decode-model.schema.json)')
        .example('$0 decode --dmar DMAR --registers iommu_regset --memory vmcore ""', 'name each part explicitly'),
    load: () => import('./commands/decode.js'),
  },
  {
    command: 'analyze <capture..>',
    describe: 'run the checks on a capture (or many) and report findings',
    builder: (y) =>
      addCaptureOptions(common(y))
        .positional('capture', { type: 'string', describe: 'capture directory or file; several, or with --recursive directories holding captures, make a fleet run' })
        .option('format', { alias: 'f', choices: FORMATS_ANALYZE, default: 'table' as const })
        .option('fail-on', { choices: FAIL_ON, describe: 'exit 1 when a finding that counts (not suppressed; new against --baseline) is at or above this severity (default: the configuration\'s failOn, else error)' })
        .option('config', { type: 'string', describe: 'configuration file (default: dmarsift.config.json in the working directory; --no-config: none); see docs/ci.md' })
        .option('output-format', { type: 'string', describe: 'also write FORMAT to FILE (FORMAT=FILE, repeatable: sarif=out.sarif --output-format junit=out.xml); replaces the configuration\'s outputs' })
        .option('baseline', { type: 'string', describe: 'an earlier analyze JSON or SARIF report: its findings are unchanged, only new ones count for --fail-on, vanished ones are listed as absent' })
        .option('recursive', { alias: 'r', type: 'boolean', describe: 'find the captures in the directories given (a directory holding capture.json or capture parts is one; others are searched, and listed when they hold none)' })
        .option('jobs', { alias: 'j', type: 'string', describe: 'analyse this many captures at once, one worker thread each (default: the cores, at most 8; on 2 cores or fewer, 1: one after another in this thread)' })
        .option('check', { type: 'string', describe: 'run only these check ids (ID,ID… or repeated)' })
        .option('skip', { type: 'string', describe: 'skip these check ids (ID,ID… or repeated)' })
        .option('require', { type: 'string', describe: 'exit 2 unless the capture holds these part kinds, usable (KIND,… or repeated: dmar, registers, memory, pci, vm-cmdlines, memory-map, dmesg, debugfs-translation, debugfs-domain, dmardump-text, bridges)' })
        .option('docs-uri', { type: 'string', describe: 'SARIF and Markdown: absolute base URL of the repository, to link docs/checks/<id>.md pages (e.g. your repository blob URL ending in /); env DMARSIFT_DOCS_URI' })
        .example('$0 analyze samples/ppt-passthrough-leak', 'find what is wrong with a capture')
        .example('$0 analyze capture/ --format sarif -o dmarsift.sarif --fail-on warning', 'for CI code scanning')
        .example('$0 analyze -r captures/ --output-format sarif=fleet.sarif --output-format html=fleet.html', 'a fleet: a summary row per capture, SARIF and HTML from one run')
        .example('$0 analyze -r captures/ --baseline yesterday.json', 'fail only on findings yesterday\'s report did not have')
        .epilogue('Exit status: 0 no finding that counts at or above --fail-on; 1 at least one (in any capture); 2 a capture could not be read or nothing in it could be checked (with several captures: when no capture has such a finding).'),
    load: () => import('./commands/analyze.js'),
  },
  {
    command: 'checks',
    describe: 'list every check: id, default severity, summary',
    builder: (y) => common(y).option('format', { alias: 'f', choices: ['table', 'json'] as const, default: 'table' as const }).example('$0 checks', 'the list'),
    load: () => import('./commands/checks.js'),
  },
  {
    command: 'translate <capture>',
    describe: 'walk a device\'s tables for one IOVA (the host address, page size and permissions, or why it faults), or remap one of its MSIs (--msi)',
    builder: (y) =>
      addCaptureOptions(common(y))
        .positional('capture', { type: 'string' })
        .option('bdf', { type: 'string', demandOption: true, describe: 'device: 0000:03:00.0, 03:00.0, 3/0/8, pci0:3:0:8, ppt0' })
        .option('iova', { type: 'string', describe: 'I/O virtual address (hex with 0x, or decimal); this or --msi' })
        .option('msi', { type: 'string', describe: 'an MSI the device writes, ADDR:DATA (e.g. 0xfee002d0:0x0): the IRTE it names and the delivery, or the interrupt fault (0x20-0x26)' })
        .option('pasid', { type: 'number', describe: 'PASID (scalable mode); default RID_PASID' })
        .option('access', { choices: ['read', 'write'] as const, default: 'read' as const, describe: 'request type: decides which permission a fault names' })
        .option('format', { alias: 'f', choices: ['table', 'json'] as const, default: 'table' as const })
        .example('$0 translate samples/bhyve-host --bdf 3/0/8 --iova 0x1000', 'where does this DMA land?')
        .example('$0 translate CAPTURE --bdf 01:00.0 --msi 0xfee002d0:0', 'which vector, on which CPU, does this interrupt raise?'),
    load: () => import('./commands/translate.js'),
  },
  {
    command: 'diff <before> <after>',
    describe: 'what changed between two captures, and the findings only the pair reveals',
    builder: (y) =>
      common(y)
        .positional('before', { type: 'string' })
        .positional('after', { type: 'string' })
        .option('format', { alias: 'f', choices: ['table', 'json', 'markdown'] as const, default: 'table' as const })
        .option('fail-on', { choices: FAIL_ON, default: 'error' as const })
        .example('$0 diff before/ after/', 'entries added, removed, re-pointed; mappings gained or lost'),
    load: () => import('./commands/diff.js'),
  },
  {
    command: 'scan <image>',
    describe: 'find root tables in a memory image that came without registers, ranked by confidence with the evidence',
    builder: (y) =>
      common(y)
        .positional('image', { type: 'string', describe: 'memory image (raw, ELF core, LiME, sparse dump), or a capture directory holding one' })
        .option('format', { alias: 'f', choices: ['table', 'json'] as const, default: 'table' as const })
        .option('rtaddr', { type: 'string', describe: 'score this root table (RTADDR value: TTM bits 11:10 = 01 for scalable) and decode the capture with it, instead of scanning' })
        .option('haw', { type: 'string', describe: 'host address width in bits (default: the capture\'s DMAR table, else 52)' })
        .option('base', { type: 'string', describe: 'physical address of the first byte of a raw image' })
        .option('limit', { type: 'string', describe: 'show at most N candidates (default 10)' })
        .option('chunk', { type: 'string', describe: 'bytes per sequential read (default 256 KiB)' })
        .option('jobs', { alias: 'j', type: 'string', describe: 'read this many shares of the image at once, one thread each (default: the cores, at most 4; images under 256 MiB use one)' })
        .epilogue('Exit status: 0 when a root table was found, 1 when none was, 2 when the image could not be read.')
        .example('$0 scan samples/scan-no-registers/memory.elf', 'rank the pages that look like root tables')
        .example('$0 decode samples/scan-no-registers --rtaddr auto', 'decode with the best one (a warning names it and the runner-up)')
        .example('$0 scan samples/scan-no-registers --rtaddr 0x3f800000', 'the evidence for one address, then its decode'),
    load: () => import('./commands/scan.js'),
  },
  {
    command: 'capture',
    describe: 'copy a live Linux host\'s I/O MMU state into a capture directory (DMAR, intel-iommu sysfs and debugfs, PCI devices, /proc/iomem, QEMU command lines)',
    builder: (y) =>
      y
        .option('out', { alias: 'o', type: 'string', demandOption: true, describe: 'directory to write (created; must be empty if it exists)' })
        .option('root', { type: 'string', default: '/', describe: 'read /sys and /proc under this directory instead of / (a copied or fake tree)' })
        .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'print nothing but warnings' })
        .epilogue('Run as root: debugfs, the DMAR table and /proc/iomem addresses need it. Unreadable files are skipped with a warning (listed in capture.json "notes"). Exit status: 0 when anything was captured, 2 when nothing was. On FreeBSD use samples/capture-freebsd.sh.')
        .example('sudo $0 capture --out host7-$(date +%F)', 'capture this host, then: dmarsift analyze host7-…')
        .example('$0 capture --out cap --root /mnt/host-sysfs-copy', 'read a copied tree (sys/, proc/) instead of the live one'),
    load: () => import('./commands/capture.js'),
  },
];

const OVERVIEW = [
  'dmarsift — offline forensic analysis of Intel VT-d (DMAR) I/O MMU state',
  '',
  'Usage: dmarsift <command> [options]',
  '',
  '  decode <capture>       decode a capture and print it',
  '  analyze <capture..>    run the checks and report findings (several: a fleet)',
  '  translate <capture>    walk one device\'s tables for one IOVA, or remap one MSI',
  '  diff <before> <after>  compare two captures',
  '  scan <image>           find root tables in a memory image without registers',
  '  capture --out DIR      capture a live Linux host\'s I/O MMU state',
  '  checks                 list the checks',
  '',
  "Run 'dmarsift <command> --help' for options and examples.",
  '',
].join('\n');

/** The parser: every command, with `handle` wrapping each one's handler. */
/**
 * Whether yargs may print its help in this run: --help or -h (alone or among short flags), the
 * help command, or no command at all. Errors are ours (`.fail` throws), never yargs' help.
 */
function mayShowHelp(args: string[]): boolean {
  if (!args.some((a) => !a.startsWith('-'))) return true;
  return args.some((a) => a === 'help' || a === '--help' || /^-[A-Za-z]*h/.test(a));
}

function parserFor(args: string[], handle: (def: CommandDef) => (argv: Record<string, unknown>) => Promise<void>): Argv {
  const help = mayShowHelp(args);
  let parser = yargs(args)
    .scriptName('dmarsift')
    .usage('dmarsift — offline forensic analysis of Intel VT-d (DMAR) I/O MMU state\n\nUsage: $0 <command> [options]');
  // A run that cannot print help names its command (refuseUnknownCommand made sure): yargs gets
  // only that one, not the others' usage lines and options to set up (~3 ms of every run).
  const named = help ? undefined : commandNamed(args);
  for (const def of named !== undefined ? [named] : COMMAND_DEFS) parser = parser.command(def.command, def.describe, def.builder, handle(def));
  if (!help) skipHelpLayout(parser);
  return parser
    .demandCommand(1, `a command is needed: ${COMMANDS.join(', ')} (see --help)`)
    .strict()
    .recommendCommands()
    .version(VERSION)
    .alias('h', 'help')
    .alias('V', 'version')
    // yargs lays out the whole help text on every command it runs (kept for a later showHelp):
    // ~10 ms of a run's start-up spent fitting paragraphs to the terminal. Only a run that prints
    // help needs them fitted; any other one never shows that text.
    .wrap(help ? Math.min(100, outputWidth({ isTTY: isTerminal(1) })) : null)
    .middleware((argv) => refuseRepeatedSingles(argv))
    .exitProcess(false)
    .fail((msg, err) => {
      if (err) throw err;
      throw new UsageError(unknownOptionsText(msg));
    });
}

/**
 * yargs lays out the whole help text once a command's handler has started, and keeps it for a
 * later showHelp (~6 ms of a run: every option of the command fitted into columns, even unwrapped).
 * No such call can come in a run that prints no help — failures are ours (`.fail` throws) — so
 * that run skips it. The hook is yargs' internal usage object: where a yargs version lacks it,
 * nothing changes.
 */
function skipHelpLayout(parser: Argv): void {
  type Usage = { cacheHelpMessage?: () => void };
  const internal = (parser as unknown as { getInternalMethods?: () => { getUsageInstance?: () => Usage } }).getInternalMethods;
  const usage = typeof internal === 'function' ? internal.call(parser).getUsageInstance?.() : undefined;
  if (usage !== undefined && typeof usage.cacheHelpMessage === 'function') usage.cacheHelpMessage = () => undefined;
}

/**
 * yargs names an unknown option twice, as typed and camelCased ("Unknown arguments: bogus-opt,
 * bogusOpt"): name each once, as the user typed it, with its dashes.
 */
function unknownOptionsText(msg: string): string {
  const m = /^Unknown arguments?: (.*)$/.exec(msg);
  if (!m) return msg;
  const names = m[1].split(', ');
  const camel = (s: string): string => s.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
  const typed = names.filter((n) => !names.some((o) => o !== n && o.includes('-') && camel(o) === n));
  return `unknown option${typed.length === 1 ? '' : 's'} ${typed.map((n) => (n.length === 1 ? `-${n}` : `--${n}`)).join(', ')}`;
}

/**
 * Only parsing gets here (a handler's errors are reported where it runs): a usage error points at
 * --help, or gives the overview when no command was named.
 */
function parseFailure(args: string[], e: unknown): number {
  if (!(e instanceof UsageError)) return reportError(e);
  process.stderr.write(args.length === 0 ? OVERVIEW : `dmarsift: ${e.message}\nRun 'dmarsift --help' for usage.\n`);
  return EXIT_ERROR;
}

/**
 * Start loading the named command's modules before yargs parses: node reads a module graph's
 * files asynchronously, and those reads (~15 ms of waiting on this machine) then overlap the
 * parse. The handler's own import gets the same modules; a failed load is reported there.
 */
function prefetchCommand(args: string[]): void {
  if (mayShowHelp(args)) return;
  commandNamed(args)?.load().catch(() => undefined);
}

/** The command the first word that is not an option names, if any. */
function commandNamed(args: string[]): CommandDef | undefined {
  const word = args.find((a) => !a.startsWith('-'));
  return COMMAND_DEFS.find((d) => d.command.split(' ')[0] === word);
}

export async function main(args: string[]): Promise<void> {
  mark('main');
  let exitCode = 0;
  const handle = (def: CommandDef) => async (argv: Record<string, unknown>) => {
    try {
      mark('arguments parsed');
      const mod = await def.load();
      mark('command loaded');
      exitCode = await mod.run(argv);
    } catch (e) {
      exitCode = reportError(e);
    }
  };
  try {
    refuseUnknownCommand(args);
    prefetchCommand(args);
    await parserFor(args, handle).parseAsync();
  } catch (e) {
    exitCode = parseFailure(args, e);
  }
  printTiming();
  process.exitCode = exitCode;
}
