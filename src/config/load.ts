/**
 * Loading a keepalived.conf: lexical layer (parse.ts) → keepalived 2.2.7's
 * keyword passes and checks (schema/) → typed model, with the verdict
 * `keepalived -t` would give.
 *
 * exitCode follows the real /usr/sbin/keepalived 2.2.7 binary, measured:
 *   0  OK (also when the main file is missing and -e is not given, as 2.2.7 does)
 *   2  a keyword lacks a required parameter (keepalived exits at once)
 *   4  only errors keepalived cannot run with (missing files with -e/include
 *      checks, unknown interface for linkbeat/up-down delays, ...)
 *   5  configuration errors keepalived works around
 *   6  scripts configured without enable_script_security
 * (keepalived(8) documents 3/4/5; the binary's chk_exit_code enum is 4/5/6.)
 * `config` is null when keepalived would not run the configuration.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { KeepwatchConfig } from './model';
import type { ParseResult } from './ast';
import { parseConfigFile, parseConfigText } from './parse';
import { buildConfig } from './schema/index';
import { ConfErr, Reporter, formatDiagnostic, type ConfigDiagnostic, type ExitCode } from './schema/diag';
import type { HostEnv } from './schema/host';

export type { ConfigDiagnostic, ExitCode } from './schema/diag';
export { formatDiagnostic } from './schema/diag';
export type { HostEnv, HostInterface } from './schema/host';
export { realHost } from './schema/host';

export interface LoadOptions {
  /** `-i/--config-id` for @ID conditional lines */
  configId?: string;
  /** `-e/--all-config`: missing include files are errors */
  allConfig?: boolean;
  /** facts about the host (interfaces, users, files); default: this machine */
  host?: HostEnv;
}

export interface LoadResult {
  config: KeepwatchConfig | null;
  diagnostics: ConfigDiagnostic[];
  exitCode: ExitCode;
  /** every configuration file read */
  files: string[];
}

/** keepalived's class for a lexical-layer message (only FILE_NOT_FOUND vs the rest changes `-t`). */
function lexicalCode(d: { severity: string; message: string }, allConfig: boolean): string | undefined {
  // keepalived opens files itself and reports problems with the include
  // type's checks; a plain `include` loop only logs "open problem".
  if (/^include loop|^includes nested deeper/.test(d.message)) return allConfig ? 'FILE_ERROR' : 'LOG';
  if (d.severity !== 'error') return undefined;
  // lib/parser.c file_config_error(): sets config_file_error, and keepalived
  // then stops right after reading the configuration with exit status 6.
  if (/Config files missing|No config files matched|Some config files missing|is a directory - skipping|not a regular non-executable file|open problem|chdir\(|Error reading config file/.test(d.message))
    return 'FILE_ERROR';
  if (/Unable to read configuration file|Failed to open configuration file/.test(d.message)) return 'CONFIG_FILE_NOT_FOUND';
  if (/Extra '\}'/.test(d.message)) return 'CONFIG_UNEXPECTED_EOB';
  if (/missing '\}'/.test(d.message)) return 'CONFIG_MISSING_EOB';
  if (/quote/i.test(d.message)) return 'CONFIG_UNMATCHED_QUOTE';
  return 'CONFIG_GENERAL_ERROR';
}

function fromParse(parsed: ParseResult, opts: LoadOptions): LoadResult {
  const r = buildConfig(parsed.nodes, {
    host: opts.host,
    files: parsed.files,
    lines: parsed.lines,
    // The tree's "Unexpected '{'" is its own guess (it has no keyword tables);
    // keepalived reports that from process_stream(), and the dispatcher,
    // running on the same line stream, reports exactly those.
    lexical: parsed.diagnostics
      .filter((d) => !/^Unexpected '\{'/.test(d.message))
      .map((d) => ({ ...d, code: lexicalCode(d, opts.allConfig ?? false) })),
  });
  return { ...r, files: parsed.files };
}

/**
 * keepalived 2.2.7 check_conf_file(): a missing main file is only logged
 * ("Config files missing") unless -e, and `-t` then exits with whatever was
 * reported so far — 0, or 4 with -e.
 */
function mainFileMissing(file: string, allConfig: boolean): LoadResult | null {
  if (/[*?[{]/.test(file)) return null; // globs: the lexer resolves them
  let ok = false;
  try {
    ok = fs.statSync(file).isFile();
  } catch {
    ok = false;
  }
  if (ok) return null;
  const rep = new Reporter();
  const msg = `Config files missing '${file}'.`;
  if (allConfig) rep.error(ConfErr.FILE_NOT_FOUND, msg, { file, line: 0 });
  else rep.log(msg, { file, line: 0 });
  rep.diagnostics[rep.diagnostics.length - 1].severity = 'error';
  return { config: null, diagnostics: rep.diagnostics, exitCode: rep.exitCode(), files: [] };
}

/** Load and check a configuration file (a glob, as `keepalived -f`). */
export function loadConfig(file: string, opts: LoadOptions = {}): LoadResult {
  const missing = mainFileMissing(file, opts.allConfig ?? false);
  if (missing) return missing;
  const parsed = parseConfigFile(file, { configId: opts.configId, allConfig: opts.allConfig });
  return fromParse(parsed, opts);
}

/** Load configuration text; `file` names it in diagnostics and anchors relative includes. */
export function loadConfigText(text: string, opts: LoadOptions & { file?: string } = {}): LoadResult {
  const file = opts.file ?? 'keepalived.conf';
  const parsed = parseConfigText(text, { file, configId: opts.configId, allConfig: opts.allConfig, baseDir: path.dirname(path.resolve(file)) });
  return fromParse(parsed, opts);
}

/** Diagnostics as `FILE:LINE: message` lines. */
export function formatDiagnostics(ds: readonly ConfigDiagnostic[]): string {
  return ds.map(formatDiagnostic).join('\n');
}
