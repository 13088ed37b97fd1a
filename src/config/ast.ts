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
  /** every file read, in order (for reload change detection) */
  files: string[];
}
