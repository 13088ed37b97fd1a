/**
 * The stateful half of the keepalived.conf lexical layer: it turns files into
 * a stream of logical lines, doing what keepalived 2.2.7 lib/parser.c
 * read_line() does, in the same order for each line:
 *
 *   physical line -> strip CR/LF -> decomment -> [multi-line definition body]
 *   -> `@ID` / `@^ID` -> `$NAME=value` -> `~SEQ(...)` / `~LST(...)`
 *   -> `$NAME` / `${NAME}` substitution (+ decomment again, recheck)
 *   -> `include*` -> split at the first `{` / `}` outside quotes
 *
 * Sources are a stack of frames read top first: files (an include pushes the
 * included file), pending glob matches, the remaining lines of a multi-line
 * definition being expanded, and ~SEQ/~LST iterations. Everything is
 * iterative; every source of unbounded work has a limit in LIMITS with a
 * diagnostic when hit (keepalived itself hangs on `$A=${A}` and includes a
 * self-including file ~1000 times until it runs out of file descriptors —
 * both verified with keepalived 2.2.7).
 *
 * Deliberate divergences from keepalived 2.2.7, all on inputs keepalived
 * mishandles:
 * - An `include` produced by a ~SEQ/~LST iteration or inside a multi-line
 *   definition is read at that point. keepalived reads the included file only
 *   after the whole sequence/definition is done (its include stack is below
 *   its sequence list), so `~SEQ(I,1,3) include f$I` reads f3, f2, f1.
 * - Lines longer than 1023 bytes are kept whole (keepalived's fgets() with a
 *   1024-byte buffer splits them into several lines); a warning says so.
 * - A NUL byte ends the line (as in keepalived) but does not shift line
 *   numbers of the following lines (it does in keepalived); a warning says so.
 * - A last line without '\n' gets its real number (keepalived reports it
 *   with the number of the line before).
 * - `${NAME }` (braces with a trailing space) is replaced up to the `}`
 *   (keepalived replaces one character too few and leaves a stray `}`).
 * - `~SEQ(var start, ...)` without the comma after the name is an error
 *   (keepalived silently eats the first character of `start`).
 * - A UTF-8 byte order mark at the start of a file is ignored with a warning
 *   (keepalived makes it part of the first keyword).
 */
import * as fs from 'fs';
import * as path from 'path';
import type { Diagnostic } from './ast';
import { decomment, excerpt, splitBraces, trimBlankEnd } from './lexer';
import { glob, hasBrace } from './preprocess-glob';

/**
 * Limits that keep hostile input bounded in time and memory. Each is far
 * above what a real configuration needs; hitting one gives an error.
 */
export const LIMITS = {
  /** one configuration file (5 MB configs parse in well under a second) */
  maxFileBytes: 64 * 1024 * 1024,
  /** all files of one parse together */
  maxTotalBytes: 256 * 1024 * 1024,
  /** include nesting (keepalived runs out of file descriptors near 1000) */
  maxIncludeDepth: 64,
  /**
   * Lines produced by ~SEQ/~LST iterations and multi-line definitions
   * together. The man page's largest example (65024 vrrp_instances from one
   * `~SEQ(IF,0,7) ~SEQ(NUM,0,31) ~SEQ(ID,1,254) $VI4` line, 16 template
   * lines each) needs 1 040 384 and parses in ~2 s with ~300 MB of heap;
   * the limit keeps a hostile expansion near that cost instead of an OOM.
   */
  maxExpandedLines: 1_200_000,
  /** iterations of one ~SEQ */
  maxSeqIterations: 1_000_000,
  /** `$NAME` substitutions while processing one line (self-reference guard) */
  maxSubstitutionsPerLine: 10_000,
  /** characters inserted by substitution into one line */
  maxExpandedLineChars: 4 * 1024 * 1024,
  /** substitute/recheck passes over one line */
  maxRecheckPasses: 100,
  /** keepalived 2.2.7 MAXBUF - 1: longer lines get a compatibility warning */
  keepalivedMaxLine: 1023,
  /** diagnostics kept; the rest are counted in a final summary line */
  maxDiagnostics: 1000,
};

/** keepalived 2.2.7 include_t (lib/parser.c) */
export const INCLUDE_R = 0x01; // error if not readable / a directory / not a regular file
export const INCLUDE_M = 0x02; // error if no files match, unless a wildcard was used
export const INCLUDE_W = 0x04; // error if no files match even with a wildcard
export const INCLUDE_B = 0x08; // every brace alternative must match
export const INCLUDE_ALL = INCLUDE_R | INCLUDE_M | INCLUDE_W | INCLUDE_B;

export interface Loc {
  file: string;
  line: number;
}

export interface LogicalLine {
  /** the processed line, ready for splitWords(); `{` and `}` always come alone */
  text: string;
  file: string;
  line: number;
}

/** Collects diagnostics in order, keeping at most LIMITS.maxDiagnostics. */
export class DiagSink {
  private readonly items: Diagnostic[] = [];
  private suppressed = 0;
  private suppressedErrors = 0;
  private last: Loc = { file: '', line: 0 };
  constructor(private readonly max = LIMITS.maxDiagnostics) {}

  add(severity: Diagnostic['severity'], loc: Loc, message: string): void {
    this.last = loc;
    if (this.items.length >= this.max) {
      this.suppressed++;
      if (severity === 'error') this.suppressedErrors++;
      return;
    }
    this.items.push({ severity, file: loc.file, line: loc.line, message });
  }
  error(loc: Loc, message: string): void {
    this.add('error', loc, message);
  }
  warn(loc: Loc, message: string): void {
    this.add('warning', loc, message);
  }
  finish(): Diagnostic[] {
    const out = this.items.slice();
    if (this.suppressed) {
      out.push({
        severity: this.suppressedErrors ? 'error' : 'warning',
        file: this.last.file,
        line: this.last.line,
        message: `${this.suppressed} further diagnostics suppressed (${this.suppressedErrors} errors); only the first ${this.max} are listed`,
      });
    }
    return out;
  }
}

export interface PreprocessOptions {
  configId: string;
  /** `-e/--all-config`: keepalived include_check_set(NULL), all include checks on */
  allConfig: boolean;
  /** source of ${_RANDOM}; Math.random by default */
  random?: () => number;
}

interface Def {
  value: string;
  multiline: boolean;
  /** builtin computed at each use (${_PWD}, ${_INSTANCE}, ${_RANDOM}) */
  fn?: (params: number[] | null, loc: Loc) => string;
  maxParams: number;
  /** cached split of a multi-line value: first line + the lines that follow */
  split?: { value: string; first: string; rest: string[] | null };
}

interface FileFrame {
  kind: 'file';
  lines: string[];
  idx: number;
  file: string; // display name
  displayDir: string; // for display names of relative includes
  dir: string; // absolute directory: relative includes and ${_PWD}
  real: string | null; // for include loop detection
  savedIncludeCheck: number;
  nulWarned: boolean;
  longWarned: boolean;
  pwd?: string;
}

interface GlobFrame {
  kind: 'glob';
  items: string[];
  idx: number;
  type: number;
  loc: Loc;
  cwd: string;
  displayDir: string;
  savedIncludeCheck: number;
  /** the top-level configuration file (not an include) */
  isMain: boolean;
  /** top-level config file: its display name when there is a single match */
  mainName?: string;
  opened: number;
  pattern: string;
}

interface TplFrame {
  kind: 'tpl';
  lines: string[];
  idx: number;
  loc: Loc;
}

interface SeqFrame {
  kind: 'seq';
  name: string;
  next: number;
  step: number;
  last: number;
  hex: boolean;
  text: string;
  loc: Loc;
}

interface LstFrame {
  kind: 'lst';
  names: string[];
  sets: string[][];
  idx: number;
  text: string;
  loc: Loc;
}

type Frame = FileFrame | GlobFrame | TplFrame | SeqFrame | LstFrame;

interface Seg {
  s: string;
  i: number;
}

interface Budget {
  subs: number;
  chars: number;
}

const STRERROR: Record<string, string> = {
  EACCES: 'Permission denied',
  EPERM: 'Operation not permitted',
  ENOENT: 'No such file or directory',
  EISDIR: 'Is a directory',
  ENOTDIR: 'Not a directory',
  ELOOP: 'Too many levels of symbolic links',
  EMFILE: 'Too many open files',
  EIO: 'Input/output error',
  ENAMETOOLONG: 'File name too long',
  EINVAL: 'Invalid argument',
};

function strerror(e: unknown): string {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (code && STRERROR[code]) return STRERROR[code]!;
  return e instanceof Error ? e.message : String(e);
}

function isAlpha(c: string | undefined): boolean {
  return c !== undefined && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'));
}
function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= '0' && c <= '9';
}
function isNameChar(c: string | undefined): boolean {
  return isAlpha(c) || isDigit(c) || c === '_';
}
function isBlank(c: string | undefined): boolean {
  return c === ' ' || c === '\t';
}
/** isspace(3) in the C locale */
function isSpace(c: string | undefined): boolean {
  return c === ' ' || c === '\t' || c === '\n' || c === '\v' || c === '\f' || c === '\r';
}
function skipBlanks(s: string, i: number): number {
  while (isBlank(s[i])) i++;
  return i;
}

/** strtol(s + i, &end, 0): C integer syntax with 0x / leading-0 octal prefixes. */
export function cStrtol(s: string, i: number): { value: number; end: number } {
  let j = i;
  while (isSpace(s[j])) j++;
  let neg = false;
  if (s[j] === '+' || s[j] === '-') {
    neg = s[j] === '-';
    j++;
  }
  let base = 10;
  if (s[j] === '0' && (s[j + 1] === 'x' || s[j + 1] === 'X') && /[0-9a-fA-F]/.test(s[j + 2] ?? '')) {
    base = 16;
    j += 2;
  } else if (s[j] === '0') base = 8;
  const start = j;
  let v = 0;
  for (;;) {
    const c = s[j];
    if (c === undefined) break;
    const d = parseInt(c, 36);
    if (Number.isNaN(d) || d >= base) break;
    v = Math.min(v * base + d, Number.MAX_SAFE_INTEGER);
    j++;
  }
  if (j === start) return { value: 0, end: i };
  return { value: neg ? -v : v, end: j };
}

export class Preprocessor {
  private readonly frames: Frame[] = [];
  private residue: { text: string; loc: Loc } | null = null;
  private readonly defs = new Map<string, Def>();
  /** definition whose continuation lines are being collected (`$NAME=... \`) */
  private mlDef: Def | null = null;
  private includeCheck: number;
  private expanded = 0;
  private expansionStopped = false;
  private totalBytes = 0;
  private readonly filesRead: string[] = [];
  private readonly filesSeen = new Set<string>();
  private readonly random: () => number;

  constructor(
    private readonly opts: PreprocessOptions,
    private readonly diags: DiagSink,
  ) {
    this.random = opts.random ?? Math.random;
    // keepalived 2.2.7 main.c: -e calls include_check_set(NULL) = every check
    this.includeCheck = opts.allConfig ? INCLUDE_ALL : 0;
    // keepalived 2.2.7 set_std_definitions()
    this.defs.set('_PWD', { value: '', multiline: false, maxParams: 0, fn: () => this.currentPwd() });
    this.defs.set('_INSTANCE', { value: '', multiline: false, maxParams: 0, fn: () => this.opts.configId });
    this.defs.set('_RANDOM', { value: '', multiline: false, maxParams: 2, fn: (p, loc) => this.randomValue(p, loc) });
    this.defs.set('_HASH', { value: '#', multiline: false, maxParams: 0 });
    this.defs.set('_BANG', { value: '!', multiline: false, maxParams: 0 });
  }

  /** Absolute paths of every file read, first-read order, no duplicates. */
  get files(): string[] {
    return this.filesRead.slice();
  }

  /**
   * The top-level configuration: keepalived opens it as a glob with the
   * checks of `includew` (init_data: INCLUDE_R | INCLUDE_M | INCLUDE_W), so
   * `-f '/etc/keepalived/*.conf'` reads every match in order.
   */
  openMain(pattern: string, displayName: string, cwd: string): void {
    const loc: Loc = { file: displayName, line: 0 };
    const g = this.runGlob(pattern, INCLUDE_R | INCLUDE_M | INCLUDE_W, loc, cwd);
    if (g) {
      if (g.length > 1) {
        // keepalived 2.2.7 check_conf_file()
        this.diags.warn(loc, `multiple configuration file matches of ${pattern}, starting with ${g[0]}`);
      }
      this.frames.push({
        kind: 'glob',
        items: g,
        idx: 0,
        type: INCLUDE_R | INCLUDE_M | INCLUDE_W,
        loc,
        cwd,
        displayDir: displayDirOf(displayName),
        savedIncludeCheck: this.includeCheck,
        isMain: true,
        mainName: g.length === 1 ? displayName : undefined,
        opened: 0,
        pattern,
      });
    } else {
      this.diags.error(loc, `Failed to open configuration file '${pattern}'`);
    }
  }

  /** Configuration given as text (no file behind it); includes resolve from `dir`. */
  pushText(text: string, displayName: string, dir: string): void {
    this.frames.push(this.makeFileFrame(text, displayName, displayDirOf(displayName), dir, null));
  }

  /**
   * keepalived 2.2.7 include_check_set(): the `include_check` keyword of
   * global_defs changes the checks of later includes in the same file (the
   * value in force when a file is included is restored when it ends).
   */
  includeCheckSet(args: string[], loc: Loc): void {
    if (args.length === 0) {
      this.includeCheck = INCLUDE_ALL;
      return;
    }
    for (let i = 0; i < args.length; i++) {
      const word = args[i]!;
      let mode = 0; // -1 remove, +1 add, 0 set
      let name = word;
      if (word[0] === '-') {
        mode = -1;
        name = word.slice(1);
      } else if (word[0] === '+') {
        mode = 1;
        name = word.slice(1);
      } else if (i === 0) {
        this.includeCheck = 0;
      } else {
        this.diags.error(loc, `Duplicate include_check '${word}' specified - ignoring`);
        continue;
      }
      const flag =
        name === 'read' ? INCLUDE_R : name === 'match' ? INCLUDE_M : name === 'wildcard_match' ? INCLUDE_W : name === 'brace_match' ? INCLUDE_B : 0;
      if (!flag) {
        this.diags.error(loc, `Unknown include_check type '${name}' - ignoring`);
        continue;
      }
      if (mode === 0) this.includeCheck = INCLUDE_R | flag;
      else if (mode === 1) this.includeCheck |= flag;
      else this.includeCheck &= ~flag;
    }
  }

  /** The next logical line, or null at the end of all input. */
  next(): LogicalLine | null {
    for (;;) {
      let buf: string;
      let loc: Loc;
      let isResidue = false;
      if (this.residue !== null) {
        isResidue = true;
        buf = this.residue.text;
        loc = this.residue.loc;
        this.residue = null;
      } else {
        const top = this.frames[this.frames.length - 1];
        if (!top) return null;
        if (top.kind === 'file') {
          if (top.idx >= top.lines.length) {
            this.frames.pop();
            this.includeCheck = top.savedIncludeCheck;
            continue;
          }
          let raw = top.lines[top.idx++]!;
          loc = { file: top.file, line: top.idx };
          // keepalived strips every trailing '\n' / '\r' (CRLF files)
          let e = raw.length;
          while (e > 0 && raw.charCodeAt(e - 1) === 13) e--;
          if (e !== raw.length) raw = raw.slice(0, e);
          const nul = raw.indexOf('\0');
          if (nul >= 0) {
            raw = raw.slice(0, nul);
            if (!top.nulWarned) {
              top.nulWarned = true;
              this.diags.warn(loc, 'NUL byte in configuration file (binary data?): the rest of each line after a NUL is ignored, as keepalived 2.2.7 reads lines as C strings');
            }
          }
          if (raw.length === 0) {
            // an empty line ends a multi-line definition (a comment-only line does not)
            if (this.mlDef) this.endMultiline();
            continue;
          }
          if (!top.longWarned && raw.length > LIMITS.keepalivedMaxLine / 3 && Buffer.byteLength(raw) > LIMITS.keepalivedMaxLine) {
            top.longWarned = true;
            this.diags.warn(
              loc,
              `line is ${Buffer.byteLength(raw)} bytes long; keepalived 2.2.7 reads lines in ${LIMITS.keepalivedMaxLine + 1}-byte pieces and would split it (keepwatch keeps it whole)`,
            );
          }
          const d = decomment(raw);
          if (d.unterminatedQuote) this.diags.error(loc, `Unterminated quote '${excerpt(d.text)}'`);
          if (!d.text) continue;
          buf = d.text;
        } else if (top.kind === 'glob') {
          this.openNextGlobItem(top);
          continue;
        } else if (top.kind === 'tpl') {
          buf = top.lines[top.idx++]!;
          loc = top.loc;
          if (top.idx >= top.lines.length) this.frames.pop();
          if (!this.countExpanded(loc)) continue;
        } else if (top.kind === 'seq') {
          this.setVar(top.name, top.hex ? top.next.toString(16) : String(top.next));
          buf = top.text;
          loc = top.loc;
          top.next += top.step;
          if ((top.step > 0 && top.next > top.last) || (top.step < 0 && top.next < top.last)) this.frames.pop();
          if (!this.countExpanded(loc)) continue;
        } else {
          const set = top.sets[top.idx++]!;
          for (let i = 0; i < top.names.length; i++) this.setVar(top.names[i]!, set[i] ?? '');
          buf = top.text;
          loc = top.loc;
          if (top.idx >= top.sets.length) this.frames.pop();
          if (!this.countExpanded(loc)) continue;
        }
      }

      if (this.mlDef) {
        this.appendMultiline(buf);
        continue;
      }
      if (buf.length === 0) continue;

      const processed = this.processLine(buf, loc, isResidue);
      if (processed === null || processed.length === 0) continue;
      buf = processed;

      if (this.tryInclude(buf, loc)) continue;

      const split = splitBraces(buf);
      if (split.residue !== null) this.residue = { text: split.residue, loc };
      if (split.head.length === 0) continue;
      return { text: split.head, file: loc.file, line: loc.line };
    }
  }

  // ---------------------------------------------------------------- lines

  /**
   * keepalived 2.2.7 read_line() inner loop: conditionals, definitions,
   * sequences and substitution. Returns the line to use, or null when the
   * line was consumed (definition, ~SEQ, excluded by `@`, error).
   */
  private processLine(input: string, loc: Loc, isResidue: boolean): string | null {
    let buf = input;
    const budget: Budget = { subs: 0, chars: 0 };
    for (let pass = 0; ; pass++) {
      if (pass >= LIMITS.maxRecheckPasses) {
        this.diags.error(loc, `parameter substitution did not settle after ${LIMITS.maxRecheckPasses} passes (a definition refers to itself?) - line ignored: '${excerpt(input)}'`);
        return null;
      }
      if (buf[0] === '@') {
        // `@ID rest` keeps `rest` only when ID is the config id; `@^ID` reverses it.
        const rev = buf[1] === '^';
        const ofs = rev ? 2 : 1;
        let sp = ofs;
        while (sp < buf.length && !isBlank(buf[sp])) sp++;
        if (sp >= buf.length) return null; // nothing after the id: line ignored
        const matches = buf.slice(ofs, sp) === this.opts.configId;
        if (matches === rev) return null;
        buf = buf.slice(skipBlanks(buf, sp));
      }
      if (buf[0] === '$' && this.checkDefinition(buf)) return null;
      if (buf.startsWith('~SEQ') || buf.startsWith('~LST')) {
        if (buf[1] === 'S') this.addSeq(buf, loc);
        else this.addLst(buf, loc);
        return null;
      }
      if (buf[0] === '~') break;
      // A residue (the rest of a line after a `{`/`}`) went through substitution
      // as part of its line, which stopped only when nothing more could be
      // replaced; keepalived scans it again, which can never change it, and
      // doing so here would make a line of many braces quadratic.
      if (isResidue && pass === 0) break;
      if (!buf.includes('$')) break;
      const r = this.expand(buf, loc, budget);
      if (r === null) return null;
      if (!r.changed) break;
      for (const t of r.templates) this.pushTemplate(t, loc);
      // keepalived runs decomment() again: a `#`/`!` produced by substitution
      // (${_HASH}, ${_BANG}) starts a comment unless it is inside "…"
      // (verified: `x ${_HASH}y` loses `#y`, `"${_HASH}x"` keeps `#x`).
      buf = decomment(r.text).text;
      if (!(buf[0] === '@' || buf.includes('$'))) break;
    }
    return buf;
  }

  /**
   * keepalived 2.2.7 check_definition(): `$NAME=VALUE` with only blanks
   * before the `$` and nothing between NAME and `=`. A value ending in `\`
   * starts a multi-line definition.
   */
  private checkDefinition(buf: string): boolean {
    if (!(isAlpha(buf[1]) || buf[1] === '_')) return false;
    let p = 2;
    while (p < buf.length && buf[p] !== '=') {
      if (!isNameChar(buf[p])) return false;
      p++;
    }
    if (p >= buf.length) return false;
    const name = buf.slice(1, p);
    let value = buf.slice(skipBlanks(buf, p + 1));
    let multiline = false;
    if (value.endsWith('\\')) {
      multiline = true;
      value = trimBlankEnd(value.slice(0, -1));
      value = value ? value + '\n' : '';
    }
    let def = this.defs.get(name);
    if (!def) {
      def = { value, multiline, maxParams: 0 };
      this.defs.set(name, def);
    } else {
      // a user definition overrides a builtin (keepalived clears def->fn)
      def.value = value;
      def.multiline = multiline;
      def.fn = undefined;
    }
    if (multiline) this.mlDef = def;
    return true;
  }

  /** A line of a multi-line definition body (keepalived read_line() "Handle multi-line definitions"). */
  private appendMultiline(buf: string): void {
    const def = this.mlDef!;
    let s = buf;
    let still = false;
    if (s.endsWith('\\')) {
      s = trimBlankEnd(s.slice(0, -1)) + '\n';
      still = true;
    } else {
      this.mlDef = null;
      if (def.value.length === 0) def.multiline = false;
    }
    // "Don't add blank lines": a lone `\` adds nothing
    if (s.length >= 2 || (s.length > 0 && !still)) def.value += s;
  }

  private endMultiline(): void {
    const def = this.mlDef!;
    this.mlDef = null;
    if (def.value.length === 0) def.multiline = false;
  }

  private setVar(name: string, value: string): void {
    const def = this.defs.get(name);
    if (def) {
      def.value = value;
      def.multiline = false;
      def.fn = undefined;
    } else this.defs.set(name, { value, multiline: false, maxParams: 0 });
  }

  // ---------------------------------------------------------- substitution

  /**
   * keepalived 2.2.7 replace_param(): every `$NAME` (followed by blank, `,`,
   * `)` or the end) and `${NAME}` with a definition is replaced, and the
   * replacement is scanned again (recursive, lazy expansion). A multi-line
   * definition is only replaced at the very end of the line: its first line
   * takes the place of the reference, the rest follow as lines of their own.
   * Replacement stops after a value starting with `~` so that a ~SEQ/~LST
   * produced by a definition still sees its own `$var`.
   *
   * keepalived rescans the whole buffer after every replacement; here the
   * text still to scan is a stack of segments, so the work is linear in the
   * output, and a self-reference hits maxSubstitutionsPerLine instead of
   * hanging (keepalived 2.2.7 hangs forever on `$A=${A}`: verified).
   */
  private expand(buf: string, loc: Loc, budget: Budget): { text: string; changed: boolean; templates: string[][] } | null {
    const segs: Seg[] = [{ s: buf, i: 0 }];
    const out: string[] = [];
    const templates: string[][] = [];
    let changed = false;
    while (segs.length) {
      const top = segs[segs.length - 1]!;
      const j = top.s.indexOf('$', top.i);
      if (j < 0) {
        if (top.i < top.s.length) out.push(top.i ? top.s.slice(top.i) : top.s);
        segs.pop();
        continue;
      }
      if (j > top.i) out.push(top.s.slice(top.i, j));
      top.i = j + 1;
      const ref = this.matchRef(segs);
      if (!ref) {
        out.push('$');
        if (top.i >= top.s.length) segs.pop();
        continue;
      }
      advance(segs, ref.len);
      changed = true;
      if (++budget.subs > LIMITS.maxSubstitutionsPerLine) {
        this.diags.error(
          loc,
          `more than ${LIMITS.maxSubstitutionsPerLine} parameter substitutions in one line - the definition of '${ref.name}' probably refers to itself; line ignored: '${excerpt(buf)}'`,
        );
        return null;
      }
      const def = ref.def;
      let value = def.fn ? def.fn(ref.params, loc) : def.value;
      if (def.multiline) {
        let sp = def.split;
        if (!sp || sp.value !== value) {
          const nl = value.indexOf('\n');
          sp =
            nl < 0
              ? { value, first: value, rest: null }
              : { value, first: value.slice(0, nl), rest: nl + 1 < value.length ? value.slice(nl + 1).split('\n') : null };
          def.split = sp;
        }
        // template frames only read the cached array
        if (sp.rest) templates.push(sp.rest);
        value = sp.first;
      }
      budget.chars += value.length;
      if (budget.chars > LIMITS.maxExpandedLineChars) {
        this.diags.error(
          loc,
          `parameter substitution makes the line longer than ${LIMITS.maxExpandedLineChars} characters - the definition of '${ref.name}' probably refers to itself; line ignored: '${excerpt(buf)}'`,
        );
        return null;
      }
      if (value.length) segs.push({ s: value, i: 0 });
      if (startsWithTilde(def.fn ? value : def.value)) {
        // keepalived: stop substituting, leave the rest as it is
        for (let k = segs.length - 1; k >= 0; k--) out.push(segs[k]!.s.slice(segs[k]!.i));
        break;
      }
    }
    return { text: out.join(''), changed, templates };
  }

  /**
   * keepalived 2.2.7 find_definition() for a reference: the cursor is just
   * after a `$` (top segment). Returns the definition and the length of the
   * reference text after the `$`.
   */
  private matchRef(segs: Seg[]): { def: Def; name: string; len: number; params: number[] | null } | null {
    let k: number;
    let name: string;
    let braces: boolean;
    let c: string | undefined;
    const top = segs[segs.length - 1]!;
    NAME_AT.lastIndex = top.i;
    const m = top.i < top.s.length ? NAME_AT.exec(top.s) : null;
    if (m && NAME_AT.lastIndex < top.s.length) {
      // fast path: the whole name lies inside the top segment
      braces = top.s.charCodeAt(top.i) === 123;
      name = braces ? m[0].slice(1) : m[0];
      k = m[0].length;
    } else if (!m && top.i < top.s.length && !(top.s[top.i] === '{' && top.i + 1 >= top.s.length)) {
      return null;
    } else {
      k = 0;
      c = peekAt(segs, 0);
      if (c === undefined) return null;
      braces = c === '{';
      if (braces) k = 1;
      c = peekAt(segs, k);
      if (!(isAlpha(c) || c === '_')) return null;
      name = c!;
      k++;
      while (isNameChar((c = peekAt(segs, k)))) {
        name += c;
        k++;
      }
    }
    let params: number[] | null = null;
    if (braces) {
      // ${_RANDOM 1 10}: blanks and digits, not ending in a blank
      let ptext = '';
      let sawDigit = false;
      while ((c = peekAt(segs, k)) === ' ' || isDigit(c)) {
        if (c !== ' ') sawDigit = true;
        if (sawDigit) ptext += c;
        k++;
      }
      if (sawDigit && ptext.endsWith(' ')) return null;
      if (peekAt(segs, k) !== '}') return null;
      k++;
      if (sawDigit) params = ptext.split(/ +/).map((x) => Number(x));
    } else {
      c = peekAt(segs, k);
      if (c !== undefined && c !== ' ' && c !== '\t' && c !== ',' && c !== ')') return null;
    }
    const def = this.defs.get(name);
    if (!def) return null;
    if (def.multiline && peekAt(segs, k) !== undefined) return null;
    if (params && def.maxParams === 0) return null;
    return { def, name, len: k, params };
  }

  private currentPwd(): string {
    for (let i = this.frames.length - 1; i >= 0; i--) {
      const f = this.frames[i]!;
      if (f.kind === 'file') {
        if (f.pwd === undefined) {
          // keepalived: getcwd() after chdir() to the file's directory = physical path
          try {
            f.pwd = fs.realpathSync(f.dir);
          } catch {
            f.pwd = f.dir;
          }
        }
        return f.pwd;
      }
    }
    return process.cwd();
  }

  /** keepalived 2.2.7 get_random(): ${_RANDOM [MIN [MAX]]}, defaults 0 and 32767. */
  private randomValue(params: number[] | null, loc: Loc): string {
    let min = 0;
    let max = 32767;
    if (params && params.length > 0) min = params[0]!;
    if (params && params.length > 1) max = params[1]!;
    if (params && params.length > 2) this.diags.warn(loc, `Too many parameters or extra text for \${_RANDOM ${params.join(' ')}}`);
    if (max < min) {
      this.diags.warn(loc, `\${_RANDOM ${min} ${max}}: MIN is greater than MAX - using ${max}..${min}`);
      [min, max] = [max, min];
    }
    return String(min + Math.floor(this.random() * (max - min + 1)));
  }

  // ------------------------------------------------------------ ~SEQ / ~LST

  private countExpanded(loc: Loc): boolean {
    if (++this.expanded <= LIMITS.maxExpandedLines) return true;
    if (!this.expansionStopped) {
      this.expansionStopped = true;
      this.diags.error(
        loc,
        `the configuration expands to more than ${LIMITS.maxExpandedLines} lines through ~SEQ/~LST and multi-line definitions; expansion stopped here`,
      );
    }
    // drop every pending expansion; files keep being read
    for (let i = this.frames.length - 1; i >= 0; i--) {
      const k = this.frames[i]!.kind;
      if (k === 'tpl' || k === 'seq' || k === 'lst') this.frames.splice(i, 1);
    }
    return false;
  }

  /**
   * Refuses a ~SEQ/~LST up front when, repeated by the ~SEQ/~LST loops it
   * sits in, it would exceed maxExpandedLines: `~SEQ(A,1,1000) ~SEQ(B,1,1000)
   * ~SEQ(C,1,1000) x` is stopped at once instead of after a million lines.
   */
  private admitLoop(count: number, loc: Loc): boolean {
    if (this.expansionStopped) return false;
    let total = count;
    for (const f of this.frames) {
      if (f.kind === 'seq') total *= Math.floor((f.last - f.next) / f.step) + 2;
      else if (f.kind === 'lst') total *= f.sets.length - f.idx + 1;
    }
    if (total + this.expanded <= LIMITS.maxExpandedLines) return true;
    this.expansionStopped = true;
    this.diags.error(
      loc,
      `~SEQ/~LST here would expand the configuration to about ${total} more lines; the limit is ${LIMITS.maxExpandedLines} - expansion stopped`,
    );
    for (let i = this.frames.length - 1; i >= 0; i--) {
      const k = this.frames[i]!.kind;
      if (k === 'tpl' || k === 'seq' || k === 'lst') this.frames.splice(i, 1);
    }
    return false;
  }

  private pushTemplate(lines: string[], loc: Loc): void {
    if (this.expansionStopped) return;
    this.frames.push({ kind: 'tpl', lines, idx: 0, loc });
  }

  /**
   * keepalived 2.2.7 add_seq(): `~SEQ[x](var, [start,] [step,] end) rest`.
   * The numbers may use definitions; they are C integers (0x.. hex, 0..
   * octal). One number: end, start and step ±1 from its sign. Two: start and
   * end, step ±1. Three: start, step, end (step must head towards end).
   */
  private addSeq(buf: string, loc: Loc): void {
    const bad = (why: string): void => this.diags.error(loc, `Invalid ~SEQ specification '${excerpt(buf)}'${why ? ` (${why})` : ''}`);
    let p = 4;
    const hex = buf[p] === 'x';
    if (hex) p++;
    p = skipBlanks(buf, p);
    if (buf[p] !== '(') return bad("expected '(' after ~SEQ");
    p = skipBlanks(buf, p + 1);
    const varStart = p;
    while (p < buf.length && !' \t,)'.includes(buf[p]!)) p++;
    const name = buf.slice(varStart, p);
    p = skipBlanks(buf, p);
    if (p >= buf.length || buf[p] === ')' || !name) return bad('missing variable or values');
    if (!isValidName(name)) return bad(`'${name}' is not a valid variable name`);
    if (buf[p] !== ',') return bad("expected ',' after the variable name");
    p = skipBlanks(buf, p + 1);
    const close = buf.indexOf(')', p);
    if (close < 0) return bad("missing ')'");
    // definitions may be used in the numbers
    const budget: Budget = { subs: 0, chars: 0 };
    const argText = buf.slice(p, close + 1);
    let args = argText;
    if (args.includes('$')) {
      const r = this.expand(args, loc, budget);
      if (r === null) return;
      if (r.templates.length) return this.diags.error(loc, `~SEQ parameter is multiline definition '${excerpt(buf)}'`);
      args = r.text;
    }
    const nums: number[] = [];
    let q = 0;
    for (;;) {
      const r = cStrtol(args, q);
      nums.push(r.value);
      q = skipBlanks(args, r.end);
      if (args[q] === ')') break;
      if (args[q] !== ',' || nums.length === 3) return bad('expected 1 to 3 numbers');
      q++;
    }
    let start: number;
    let step: number;
    let end: number;
    if (nums.length === 1) {
      end = nums[0]!;
      step = end < 1 ? -1 : 1;
      start = end < 0 ? -1 : 1;
    } else if (nums.length === 2) {
      start = nums[0]!;
      end = nums[1]!;
      step = start <= end ? 1 : -1;
    } else {
      start = nums[0]!;
      step = nums[1]!;
      end = nums[2]!;
      if (step === 0 || (start < end && step < 0) || (start > end && step > 0)) {
        return this.diags.error(loc, `Invalid ~SEQ values '${excerpt(buf)}'`);
      }
    }
    if (hex && (start < 0 || end < 0)) return this.diags.error(loc, `~SEQx is only valid for positive numbers '${excerpt(buf)}'`);
    const count = Math.floor((end - start) / step) + 1;
    if (count > LIMITS.maxSeqIterations) {
      return this.diags.error(loc, `~SEQ would repeat the line ${count} times; the limit is ${LIMITS.maxSeqIterations} - ignored: '${excerpt(buf)}'`);
    }
    if (!this.admitLoop(count, loc)) return;
    const text = buf.slice(skipBlanks(buf, close + 1));
    this.frames.push({ kind: 'seq', name, next: start, step, last: end, hex, text, loc });
  }

  /**
   * keepalived 2.2.7 add_lst(): `~LST(var, v1, v2, ...) rest` or
   * `~LST({A,B}, {1,2}, {3,4}) rest`; missing values in a set are empty.
   */
  private addLst(buf: string, loc: Loc): void {
    const bad = (why: string): void => this.diags.error(loc, `Invalid ~LST specification '${excerpt(buf)}'${why ? ` (${why})` : ''}`);
    let p = skipBlanks(buf, 4);
    if (buf[p] !== '(') return bad("expected '(' after ~LST");
    p = skipBlanks(buf, p + 1);
    let endChar = ',';
    if (buf[p] === '{') {
      endChar = '}';
      p = skipBlanks(buf, p + 1);
    }
    const names: string[] = [];
    for (;;) {
      const s = p;
      while (p < buf.length && !' \t,}'.includes(buf[p]!)) p++;
      const name = buf.slice(s, p);
      if (!isValidName(name)) return bad(`'${name}' is not a valid variable name`);
      names.push(name);
      p = skipBlanks(buf, p);
      if (buf[p] === endChar) break;
      if (buf[p] !== ',') return bad('bad variable list');
      p = skipBlanks(buf, p + 1);
    }
    if (buf[p] === '}') p = skipBlanks(buf, p + 1);
    if (buf[p] !== ',') return bad('no values');
    p = skipBlanks(buf, p + 1);
    const sets: string[][] = [];
    for (;;) {
      endChar = ',';
      if (buf[p] === '{') {
        endChar = '}';
        p = skipBlanks(buf, p + 1);
      }
      const vals: string[] = [];
      for (;;) {
        const s = p;
        while (p < buf.length && !' \t,})'.includes(buf[p]!)) p++;
        vals.push(buf.slice(s, p));
        p = skipBlanks(buf, p);
        if (buf[p] === endChar || (buf[p] === ')' && endChar === ',')) break;
        if (buf[p] !== ',') return bad('bad value list');
        p = skipBlanks(buf, p + 1);
        if (vals.length > names.length - 1) {
          return this.diags.error(loc, `~LST specification has too many values '${excerpt(buf)}'`);
        }
      }
      while (vals.length < names.length) vals.push('');
      sets.push(vals);
      if (buf[p] === '}' && endChar === '}') p = skipBlanks(buf, p + 1);
      if (buf[p] === ')') break;
      if (buf[p] !== ',') return bad('bad value list');
      p = skipBlanks(buf, p + 1);
    }
    if (!this.admitLoop(sets.length, loc)) return;
    const text = buf.slice(skipBlanks(buf, p + 1));
    this.frames.push({ kind: 'lst', names, sets, idx: 0, text, loc });
  }

  // --------------------------------------------------------------- include

  /**
   * keepalived 2.2.7 is_include()/check_include(): `include`, `includer`,
   * `includem`, `includew`, `includeb`, `includea` followed by whitespace;
   * the pattern is the whole rest of the line. Checked after `@`, `$` and
   * comments are processed (verified: `@ID include f` and `$I` with
   * `$I=include f` both include f, contrary to the man page's note).
   */
  private tryInclude(buf: string, loc: Loc): boolean {
    if (!buf.startsWith('include')) return false;
    const c7 = buf[7];
    if (c7 === undefined) return false;
    let type: number;
    let p: number;
    if (isSpace(c7)) {
      type = 0;
      p = 8;
    } else if ('rmwba'.includes(c7) && isSpace(buf[8])) {
      p = 9;
      type =
        c7 === 'r'
          ? INCLUDE_R
          : c7 === 'a'
            ? INCLUDE_ALL
            : c7 === 'w'
              ? INCLUDE_R | INCLUDE_M | INCLUDE_W
              : c7 === 'm'
                ? INCLUDE_R | INCLUDE_M
                : INCLUDE_R | INCLUDE_B;
    } else return false;
    const pattern = buf.slice(skipBlanks(buf, p));
    const file = this.topFile();
    const cwd = file ? file.dir : process.cwd();
    const items = this.runGlob(pattern, type, loc, cwd);
    if (items) {
      this.frames.push({
        kind: 'glob',
        items,
        idx: 0,
        type,
        loc,
        cwd,
        displayDir: file ? file.displayDir : '',
        savedIncludeCheck: this.includeCheck,
        isMain: false,
        opened: 0,
        pattern,
      });
    }
    return true;
  }

  private topFile(): FileFrame | null {
    for (let i = this.frames.length - 1; i >= 0; i--) {
      const f = this.frames[i]!;
      if (f.kind === 'file') return f;
    }
    return null;
  }

  /**
   * keepalived 2.2.7 open_and_check_glob(): which problems are errors depends
   * on include_check | the include variant; the others are only logged
   * (warnings here). Verified with keepalived 2.2.7:
   *   include  missing.conf   -> "Config files missing" logged, exit 0
   *   include  nomatch*       -> nothing
   *   includem missing.conf   -> error;  includem nomatch* -> nothing
   *   includew nomatch*       -> "No config files matched" error
   *   includeb {one,two}.conf (two missing) -> "Some config files missing" error, nothing included
   *   include  {one,two}.conf -> same message logged, one.conf included
   */
  private runGlob(pattern: string, type: number, loc: Loc, cwd: string): string[] | null {
    const eff = this.includeCheck | type;
    const report = (cls: number, msg: string): void => this.diags.add(eff & cls ? 'error' : 'warning', loc, msg);
    const g = glob(pattern, cwd);
    if (g.error) {
      this.diags.error(loc, `Error reading config file(s): glob("${pattern}"): ${g.error}, skipping.`);
      return null;
    }
    // keepalived takes the whole rest of the line as the pattern
    const hint = /\s}$/.test(pattern) ? " (the include pattern is the whole rest of the line, here including the '}')" : '';
    if (g.paths.length === 0) {
      if (g.missing) report(hasBrace(pattern) ? INCLUDE_B : INCLUDE_M, `Config files missing '${pattern}'.${hint}`);
      else if (g.haveWildcards && eff & INCLUDE_W) report(INCLUDE_W, `No config files matched '${pattern}'.${hint}`);
      return null;
    }
    if (g.missing) {
      report(INCLUDE_B, `Some config files missing: "${pattern}".`);
      if (eff & INCLUDE_B) return null;
    }
    return g.paths;
  }

  /** keepalived 2.2.7 open_conf_file() + check_glob_file() for the next glob match. */
  private openNextGlobItem(g: GlobFrame): void {
    if (g.idx >= g.items.length) {
      this.frames.pop();
      if (g.isMain && g.opened === 0) this.diags.error(g.loc, `Failed to open configuration file '${g.pattern}'`);
      return;
    }
    const item = g.items[g.idx++]!;
    const eff = g.savedIncludeCheck | g.type;
    const report = (cls: number, msg: string): void => this.diags.add(eff & cls ? 'error' : 'warning', g.loc, msg);
    const display =
      g.mainName !== undefined ? g.mainName : path.isAbsolute(item) || g.displayDir === '' ? item : path.join(g.displayDir, item);
    if (item.endsWith('/')) {
      report(INCLUDE_R, `Configuration file '${display}' is a directory - skipping`);
      return;
    }
    const abs = path.resolve(g.cwd, item);
    let st: fs.Stats;
    try {
      st = fs.statSync(abs);
    } catch {
      report(INCLUDE_R, `Configuration file '${display}' is not a regular non-executable file - skipping`);
      return;
    }
    // keepalived refuses directories, devices, FIFOs and executable files
    if (!st.isFile() || (st.mode & 0o111) !== 0) {
      report(INCLUDE_R, `Configuration file '${display}' is not a regular non-executable file - skipping`);
      return;
    }
    let real: string;
    try {
      real = fs.realpathSync(abs);
    } catch {
      real = abs;
    }
    const chain = this.frames.filter((f): f is FileFrame => f.kind === 'file');
    const loopAt = chain.findIndex((f) => f.real === real);
    if (loopAt >= 0) {
      const names = chain.slice(loopAt).map((f) => f.file);
      this.diags.error(g.loc, `include loop: '${display}' is already being read (${[...names, display].join(' -> ')}) - skipping`);
      return;
    }
    if (chain.length >= LIMITS.maxIncludeDepth) {
      this.diags.error(g.loc, `includes nested deeper than ${LIMITS.maxIncludeDepth} files - skipping '${display}'`);
      return;
    }
    if (st.size > LIMITS.maxFileBytes) {
      this.diags.error(g.loc, `Configuration file '${display}' is too large (${st.size} bytes, limit ${LIMITS.maxFileBytes}) - skipping`);
      return;
    }
    let data: Buffer;
    try {
      data = fs.readFileSync(abs);
    } catch (e) {
      report(INCLUDE_R, `Configuration file '${display}' open problem (${strerror(e)}) - skipping`);
      return;
    }
    if (data.length > LIMITS.maxFileBytes) {
      this.diags.error(g.loc, `Configuration file '${display}' is too large (more than ${LIMITS.maxFileBytes} bytes) - skipping`);
      return;
    }
    this.totalBytes += data.length;
    if (this.totalBytes > LIMITS.maxTotalBytes) {
      this.diags.error(g.loc, `configuration files total more than ${LIMITS.maxTotalBytes} bytes - skipping '${display}'`);
      return;
    }
    g.opened++;
    if (!this.filesSeen.has(abs)) {
      this.filesSeen.add(abs);
      this.filesRead.push(abs);
    }
    const frame = this.makeFileFrame(data.toString('utf8'), display, displayDirOf(display), path.dirname(abs), real);
    frame.savedIncludeCheck = g.savedIncludeCheck;
    this.frames.push(frame);
  }

  private makeFileFrame(text: string, display: string, displayDir: string, dir: string, real: string | null): FileFrame {
    const frame: FileFrame = {
      kind: 'file',
      lines: [],
      idx: 0,
      file: display,
      displayDir,
      dir,
      real,
      savedIncludeCheck: this.includeCheck,
      nulWarned: false,
      longWarned: false,
    };
    if (text.charCodeAt(0) === 0xfeff) {
      text = text.slice(1);
      this.diags.warn(
        { file: display, line: 1 },
        'UTF-8 byte order mark at the start of the file ignored (keepalived 2.2.7 would make it part of the first keyword)',
      );
    }
    const lines = text.split('\n');
    // fgets(): a final '\n' does not start another line
    if (lines.length && lines[lines.length - 1] === '') lines.pop();
    frame.lines = lines;
    return frame;
  }
}

const NAME_AT = /\{?[A-Za-z_][A-Za-z0-9_]*/y;

function startsWithTilde(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 32 || c === 9) continue;
    return c === 126;
  }
  return false;
}

/** Directory part of a display name, '' for a bare file name. */
function displayDirOf(display: string): string {
  const d = path.dirname(display);
  return d === '.' ? '' : d;
}

function isValidName(name: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name);
}

/** The character `k` positions after the cursor, reading down the segment stack. */
function peekAt(segs: Seg[], k: number): string | undefined {
  for (let d = segs.length - 1; d >= 0; d--) {
    const sg = segs[d]!;
    const avail = sg.s.length - sg.i;
    if (k < avail) return sg.s[sg.i + k];
    k -= avail;
  }
  return undefined;
}

/** Consumes `n` characters from the top of the segment stack, dropping exhausted segments. */
function advance(segs: Seg[], n: number): void {
  while (segs.length) {
    const top = segs[segs.length - 1]!;
    const avail = top.s.length - top.i;
    if (n < avail) {
      top.i += n;
      return;
    }
    n -= avail;
    segs.pop();
    if (n === 0) return;
  }
}
