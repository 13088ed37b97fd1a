/**
 * keepalived 2.2.7's configuration error classes and how `keepalived -t`
 * turns them into an exit code.
 *
 * keepalived 2.2.7 (lib/parser.h config_err_t, lib/parser.c vreport_config_error,
 * core/main.c config_test_exit): every report_config_error() call carries a
 * class; the parser keeps ONE value, replaced whenever a newly reported class
 * has a larger enum value (`config_err < err`). So the exit code is decided by
 * the numerically largest class ever reported, not the most severe one: a
 * CONFIG_BAD_IF (2) followed by a CONFIG_GENERAL_ERROR (13) exits 5, not 4.
 * We reproduce that quirk exactly, because operators script around `-t`.
 *
 * Exit codes measured with the real /usr/sbin/keepalived 2.2.7 (the man page
 * says 3/4/5; the binary returns 4/5/6 — lib/scheduler.h chk_exit_code):
 *   0 OK, 4 cannot run (FILE_NOT_FOUND/BAD_IF/FATAL only), 5 errors keepalived
 *   fixes itself, 6 scripts configured without enable_script_security,
 *   2 a keyword was missing a required parameter (lib/parser.c null_strvec()
 *   calls exit(KEEPALIVED_EXIT_CONFIG) on the spot).
 */
import type { Diagnostic } from '../ast';

export enum ConfErr {
  OK = 0,
  FILE_NOT_FOUND = 1,
  BAD_IF = 2,
  FATAL = 3,
  MULTIPLE_FILES = 4,
  UNKNOWN_KEYWORD = 5,
  UNEXPECTED_BOB = 6,
  MISSING_BOB = 7,
  UNEXPECTED_EOB = 8,
  MISSING_EOB = 9,
  UNMATCHED_QUOTE = 10,
  MISSING_PARAMETER = 11,
  INVALID_NUMBER = 12,
  GENERAL_ERROR = 13,
  WARNING = 14,
  DEPRECATED = 15,
  SECURITY_ERROR = 16,
}

/** `LOG` = keepalived only logs the message (log_message), it never affects `-t`. */
export type DiagCode = `CONFIG_${keyof typeof ConfErr}` | 'LOG';

export interface ConfigDiagnostic extends Diagnostic {
  /** keepalived's class for this message, or LOG for log-only messages. */
  code: DiagCode;
}

export type ExitCode = 0 | 1 | 2 | 4 | 5 | 6;

/** Thrown (and caught inside the loader only) where keepalived calls exit(2). */
export class MissingParameterExit extends Error {
  constructor(message: string) {
    super(message);
  }
}

/** Classes keepalived cannot run with (core/main.c config_test_exit → 4). */
const FATAL_CLASSES = new Set([ConfErr.FILE_NOT_FOUND, ConfErr.BAD_IF, ConfErr.FATAL]);

export interface Position {
  file: string;
  line: number;
}

export class Reporter {
  readonly diagnostics: ConfigDiagnostic[] = [];
  /** keepalived's single `config_err` variable. */
  private configErr: ConfErr = ConfErr.OK;
  missingParamExit = false;
  /** position of the line being processed; set by the stream reader */
  pos: Position = { file: '', line: 0 };
  private seen = new Set<string>();

  /** report_config_error(): records the class with keepalived's update rule. */
  error(cls: ConfErr, message: string, at?: Position): void {
    if (cls !== ConfErr.OK && (this.configErr === ConfErr.OK || this.configErr < cls)) this.configErr = cls;
    this.push(cls === ConfErr.OK ? 'LOG' : (`CONFIG_${ConfErr[cls]}` as DiagCode), FATAL_CLASSES.has(cls), message, at);
  }

  /**
   * A report_config_error() after which keepalived's process stops (e.g.
   * vrrp_complete_init() returning false → stop_vrrp(KEEPALIVED_EXIT_CONFIG)):
   * the class still drives `-t`'s exit code, but keepwatch refuses to run it.
   */
  refuse(cls: ConfErr, message: string, at?: Position): void {
    const n = this.diagnostics.length;
    this.error(cls, message, at);
    if (this.diagnostics.length > n) this.diagnostics[this.diagnostics.length - 1].severity = 'error';
    this.refused = true;
  }

  refused = false;

  /** log_message(): shown to the operator, no effect on the verdict. */
  log(message: string, at?: Position): void {
    this.push('LOG', false, message, at);
  }

  /** null_strvec(): report and abort the whole load with exit code 2. */
  missingParameter(message: string): never {
    this.error(ConfErr.MISSING_PARAMETER, message);
    this.missingParamExit = true;
    const last = this.diagnostics[this.diagnostics.length - 1];
    if (last) last.severity = 'error';
    throw new MissingParameterExit(message);
  }

  get status(): ConfErr {
    return this.configErr;
  }

  exitCode(): ExitCode {
    if (this.missingParamExit) return 2;
    const c = this.configErr;
    if (c === ConfErr.OK) return 0;
    if (FATAL_CLASSES.has(c)) return 4;
    if (c === ConfErr.SECURITY_ERROR) return 6;
    return 5;
  }

  /** true when something keepalived cannot run with was reported */
  hasFatal(): boolean {
    return this.missingParamExit || this.refused || this.diagnostics.some((d) => d.severity === 'error');
  }

  private push(code: DiagCode, fatal: boolean, message: string, at?: Position): void {
    const p = at ?? this.pos;
    // keepalived parses the file once per process (parent, checker, vrrp,
    // bfd), so a lexical error is printed up to four times; show it once.
    const key = `${p.file}\0${p.line}\0${message}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.diagnostics.push({ severity: fatal ? 'error' : 'warning', file: p.file, line: p.line, message, code });
  }
}

/** `FILE:LINE: message` (the format every keepwatch tool prints). */
export function formatDiagnostic(d: Diagnostic): string {
  return `${d.file}:${d.line}: ${d.message}`;
}
