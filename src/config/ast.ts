/**
 * The contract between the lexical layer (lexer.ts / preprocess.ts: includes,
 * conditionals, macros, ~SEQ/~LST, quoting, comments) and the model layer
 * (model*.ts: keywords, defaults, semantic checks).
 */
import type { Diagnostic } from '../journal/events';

export type { Diagnostic };

/** One keyword line after all lexical processing; `children` present for blocks. */
export interface ConfNode {
  keyword: string;
  args: string[];
  file: string;
  line: number;
  children?: ConfNode[];
}

/**
 * One line of keepalived's line stream (what lib/parser.c read_line() hands
 * to process_stream()): the words of a logical line, or a `{` / `}` that
 * read_line() split onto a line of its own. The tree above loses where a
 * stray brace was (a `{` no keyword owns, a `}` beyond the outermost block);
 * keepalived's dispatcher decides block structure from its keyword tables
 * and this stream, so the model layer dispatches this, not the tree.
 */
export interface ConfLine {
  /** the words (quotes removed); `['{']` / `['}']` for a brace line */
  tokens: string[];
  file: string;
  line: number;
  /** the processed text of a keyword line (keepalived's buf_extern) */
  raw?: string;
}

export interface ParseOptions {
  /** name used in diagnostics for the top file */
  file: string;
  /** `-i/--config-id`; default: hostname up to the first '.' */
  configId?: string;
  /** `-e/--all-config`: missing/unmatched includes are errors */
  allConfig?: boolean;
}

export interface ParseResult {
  nodes: ConfNode[];
  diagnostics: Diagnostic[];
  /**
   * Every line in reading order, braces included, as keepalived's
   * process_stream() sees it (also the lines inside blocks nested deeper
   * than the tree keeps).
   */
  lines: ConfLine[];
  /** every file read, in order (for reload change detection) */
  files: string[];
}
