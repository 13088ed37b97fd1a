/**
 * The command line's top level: keepalived's one-shot modes (--help, --version,
 * --signum, -t) and keepwatch's --dump-config; anything else starts the daemon.
 * Exit codes follow keepalived: usage errors 1, -t as documented in keepalived(8).
 */
import * as fs from 'node:fs';
import { parseArgs, UsageError, USAGE, type CliOptions } from './args';
import { SIGNUMS } from './signals';
import { versionBanner } from './version';
import { loadConfig } from '../config/load';
import { dumpConfig } from '../config/dump';
import { formatDiagnostic } from './diagnostics';
import { runDaemon } from '../daemon/daemon';

export { formatDiagnostic };

function configTest(o: CliOptions): number {
  const r = loadConfig(o.useFile, { configId: o.configId, allConfig: o.allConfig });
  const lines = r.diagnostics.map(formatDiagnostic);
  const text = lines.length ? lines.join('\n') + '\n' : '';
  if (o.configTestLog) {
    try {
      fs.writeFileSync(o.configTestLog, text);
    } catch (e) {
      process.stderr.write(text + `keepwatch: cannot write ${o.configTestLog}: ${(e as Error).message}\n`);
    }
  } else if (text) {
    process.stderr.write(text);
  }
  return r.exitCode;
}

export async function runCli(argv: string[]): Promise<number | void> {
  let o: CliOptions;
  try {
    o = parseArgs(argv);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`${e.message}\nTry 'keepwatch --help' for more information.\n`);
      return 1;
    }
    throw e;
  }
  if (o.help) {
    process.stderr.write(USAGE);
    return 0;
  }
  if (o.version) {
    process.stderr.write(versionBanner());
    return 0;
  }
  if (o.signum !== undefined) {
    const n = SIGNUMS[o.signum];
    if (n === undefined) {
      process.stderr.write(`Unknown sigfunc ${o.signum}\n`);
      return 1;
    }
    process.stdout.write(`${n}\n`);
    return 0;
  }
  if (o.configTest) return configTest(o);
  if (o.dumpConfig) {
    const r = loadConfig(o.useFile, { configId: o.configId, allConfig: o.allConfig });
    for (const d of r.diagnostics) process.stderr.write(formatDiagnostic(d) + '\n');
    if (!r.config) return r.exitCode || 1;
    process.stdout.write(dumpConfig(r.config) + '\n');
    return r.exitCode;
  }
  return runDaemon(o);
}
