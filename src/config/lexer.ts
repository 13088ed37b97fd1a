/**
 * Character-level pieces of the keepalived.conf language, each a pure function
 * over one line of text. The stateful part (includes, conditionals, macros,
 * ~SEQ/~LST) is in preprocess.ts; the block structure in tree.ts.
 *
 * Everything here mirrors keepalived 2.2.7 lib/parser.c, verified against the
 * real /usr/sbin/keepalived 2.2.7 with `keepalived -t -f FILE` (findings noted
 * next to each function).
 */

/** keepalived 2.2.7 WHITE_SPACE_STR " \t\f\n\r\v": the separators of alloc_strvec_r(). */
function isWhite(c: string): boolean {
  return c.length === 1 && isWhiteCode(c.charCodeAt(0));
}

/** space, \t \n \v \f \r */
function isWhiteCode(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}

/** isblank(3): what decomment() strips at the end of a line. */
function isBlank(c: string): boolean {
  return c === ' ' || c === '\t';
}

export interface DecommentResult {
  /** the line without comments and leading/trailing blanks; ends in `\` when `cont` */
  text: string;
  /** the line ended in an unescaped `\` (continuation of a `$NAME=` definition) */
  cont: boolean;
  /** an odd number of `"` outside comments ("Unterminated quote" in keepalived) */
  unterminatedQuote: boolean;
}

/**
 * keepalived 2.2.7 decomment():
 * - strips leading spaces/tabs;
 * - `!` or `#` outside double quotes starts a comment (single quotes do NOT
 *   protect a comment character: verified, `'a#b'` gives the word `'a`);
 * - `\#` and `\!` outside double quotes become a literal `#`/`!`;
 *   any other `\X` is kept as is (two characters) and X is never a quote toggle;
 * - a `\` as the very last character marks a continuation line: it is kept,
 *   but the blanks before it are removed. (Even when the `\` sits inside a
 *   comment, as in keepalived: `$A=x # note \` continues the definition.)
 * - trailing spaces/tabs are stripped.
 */
const NEEDS_DECOMMENT = /[!#"\\]|^[ \t]|[ \t]$/;

export function decomment(input: string): DecommentResult {
  if (!NEEDS_DECOMMENT.test(input)) return { text: input, cont: false, unterminatedQuote: false };
  let start = 0;
  while (start < input.length && isBlank(input[start]!)) start++;
  const str = start ? input.slice(start) : input;

  let quote = false;
  let cont = false;
  let skip = -1; // index in `out` where the comment starts
  let out = '';
  let from = 0; // str[from..i) not yet copied to out
  let i = 0;
  const n = str.length;
  while (i < n) {
    const c = str.charCodeAt(i);
    // fast path: only ! # " \ are interesting
    if (c !== 0x21 && c !== 0x23 && c !== 0x22 && c !== 0x5c) {
      i++;
      continue;
    }
    if (c === 0x22 /* " */) {
      if (skip < 0) quote = !quote;
      i++;
      continue;
    }
    if (c === 0x5c /* \ */) {
      if (i + 1 < n) {
        const nx = str[i + 1];
        if (!quote && (nx === '#' || nx === '!')) {
          // drop the backslash, keep the escaped comment character
          out += str.slice(from, i);
          from = i + 1;
          i += 2;
        } else {
          i += 2;
        }
        continue;
      }
      // trailing backslash: continuation
      out += str.slice(from, i);
      from = n;
      cont = true;
      break;
    }
    // ! or #
    if (!quote && skip < 0) skip = out.length + (i - from);
    i++;
  }
  if (from < n) out += str.slice(from);
  if (skip >= 0) out = out.slice(0, skip);
  let end = out.length;
  while (end > 0 && isBlank(out[end - 1]!)) end--;
  if (end !== out.length) out = out.slice(0, end);
  if (cont) out += '\\';
  return { text: out, cont, unterminatedQuote: quote };
}

export interface WordsResult {
  words: string[];
  /** keepalived's "Unmatched quote" (the words before it are kept) */
  error?: string;
}

/**
 * keepalived 2.2.7 alloc_strvec_r(): the tokenizer used for EVERY keyword line.
 * Words are separated by whitespace; a word starting with `"` runs to the
 * next `"` (spaces kept, quotes removed, no escapes); a `"` inside an
 * unquoted word ends that word. Single quotes are ordinary characters.
 *
 * Verified with keepalived 2.2.7 (`vrrp_garp_master_repeat` echoes its value):
 *   `"a b"c`   -> words `a b`, `c`
 *   `q"a#b"`   -> words `q`, `a#b`
 *   `'a#b'`    -> word `'a` (the `#` started a comment)
 *   `abcd" efg "h` -> first word `abcd` (NOT joined; joining only happens in
 *   the script tokenizer splitQuotedEscaped() below, which the man page's
 *   "Quoted strings" section describes).
 */
export function splitWords(text: string): WordsResult {
  const words: string[] = [];
  const n = text.length;
  let i = 0;
  for (;;) {
    while (i < n && isWhiteCode(text.charCodeAt(i))) i++;
    if (i >= n) break;
    if (text.charCodeAt(i) === 34 /* " */) {
      const close = text.indexOf('"', i + 1);
      if (close < 0) {
        return { words, error: `Unmatched quote: '${excerpt(text)}'` };
      }
      words.push(text.slice(i + 1, close));
      i = close + 1;
    } else {
      let j = i;
      let c: number;
      while (j < n && !isWhiteCode((c = text.charCodeAt(j))) && c !== 34) j++;
      words.push(text.slice(i, j));
      i = j;
    }
  }
  return { words };
}

/**
 * keepalived 2.2.7 alloc_strvec_quoted_escaped(): the tokenizer keepalived
 * re-applies to the raw line of script keywords (notify*, script, misc_path,
 * ...; see lib/notify.c notify_script_init / set_script_params_array) — the
 * man page keepalived.conf(5) "Quoted strings" section describes it:
 * - `"…"` and `'…'` quote (quote characters removed, adjacent text joins:
 *   `abcd" efg "h` is ONE word `abcd efg h`);
 * - backslash escapes, inside and outside quotes: \a \b \E \f \n \r \t \v,
 *   \nnn (1-3 octal digits), \xXX… (all following hex digits, value kept to
 *   8 bits as keepalived stores it in a char), \cC (control char), and \C for
 *   any other C is C itself (so `\\` is `\`, `\"` is `"` and does not quote).
 * Errors (whole line rejected, as keepalived returns NULL): a missing closing
 * quote, or a `\` at the very end.
 */
export function splitQuotedEscaped(text: string): WordsResult {
  const words: string[] = [];
  const n = text.length;
  let i = 0;
  for (;;) {
    while (i < n && isWhite(text[i]!)) i++;
    if (i >= n) break;
    let cur = '';
    let quote = '';
    for (;;) {
      if (i >= n) {
        if (quote) return { words: [], error: `String '${excerpt(text)}': missing terminating ${quote}` };
        break;
      }
      const c = text[i]!;
      if (c === '\\') {
        i++;
        if (i >= n) return { words: [], error: `Missing escape char at end: '${excerpt(text)}'` };
        const e = text[i]!;
        if (e === 'x' && i + 1 < n && isHex(text[i + 1]!)) {
          let v = 0;
          i++;
          while (i < n && isHex(text[i]!)) {
            v = ((v << 4) | parseInt(text[i]!, 16)) & 0xff;
            i++;
          }
          cur += String.fromCharCode(v);
        } else if (e === 'c' && i + 1 < n) {
          cur += String.fromCharCode(text.charCodeAt(i + 1) & 0x1f);
          i += 2;
        } else if (e >= '0' && e <= '7') {
          let v = e.charCodeAt(0) - 48;
          i++;
          for (let k = 0; k < 2 && i < n && text[i]! >= '0' && text[i]! <= '7'; k++) {
            v = (v << 3) + (text.charCodeAt(i) - 48);
            i++;
          }
          cur += String.fromCharCode(v & 0xff);
        } else {
          cur += ESCAPES[e] ?? e;
          i++;
        }
        continue;
      }
      if (quote) {
        if (c === quote) {
          quote = '';
          i++;
          continue;
        }
        cur += c;
        i++;
        continue;
      }
      if (c === '"' || c === "'") {
        quote = c;
        i++;
        continue;
      }
      if (isWhite(c)) break;
      cur += c;
      i++;
    }
    words.push(cur);
  }
  return { words };
}

const ESCAPES: Record<string, string> = {
  a: '\x07',
  b: '\b',
  E: '\x1b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
};

function isHex(c: string): boolean {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

export interface BraceSplit {
  /** the text to hand to the tokenizer now (trailing blanks removed) */
  head: string;
  /** the rest of the line, processed next as if it were a new line (same FILE:LINE) */
  residue: string | null;
}

/**
 * keepalived 2.2.7 read_line() tail: a line is cut at the first `{` or `}`
 * outside double quotes, so `virtual_ipaddress { 192.0.2.1 }` reaches the
 * keyword parser as four lines `virtual_ipaddress`, `{`, `192.0.2.1`, `}`.
 * A brace at the start of the line is returned alone; otherwise the text
 * before it is returned and the brace starts the residue. Braces inside an
 * unquoted word split it too (verified: `vrrp_garp_master_repeat a{b` gives
 * the value `a`, then "Unexpected '{'", then keyword `b`). A `"` without a
 * closing `"` stops the search.
 */
export function splitBraces(buf: string): BraceSplit {
  let p = -1;
  const c0 = buf[0];
  if (c0 === '{' || c0 === '}') {
    p = 0;
  } else {
    let i = 0;
    const n = buf.length;
    while (i < n) {
      const c = buf[i];
      if (c === '{' || c === '}') {
        p = i;
        break;
      }
      if (c === '"') {
        const close = buf.indexOf('"', i + 1);
        if (close < 0) break;
        i = close + 1;
        continue;
      }
      i++;
    }
  }
  let head = buf;
  let residue: string | null = null;
  if (p >= 0) {
    let skip = 0;
    if (p === 0) {
      skip = 1;
      while (p + skip < buf.length && isBlank(buf[p + skip]!)) skip++;
    }
    if (p + skip < buf.length) {
      residue = trimBlankEnd(buf.slice(p + skip));
      head = buf.slice(0, p + skip);
    }
  }
  return { head: trimBlankEnd(head), residue };
}

export function trimBlankEnd(s: string): string {
  let e = s.length;
  while (e > 0 && isBlank(s[e - 1]!)) e--;
  return e === s.length ? s : s.slice(0, e);
}

/** Shortens a line for use inside a diagnostic message. */
export function excerpt(s: string, max = 120): string {
  return s.length <= max ? s : `${s.slice(0, max)}…(${s.length} chars)`;
}
