/**
 * keepalived reads numbers with C library calls (strtol/strtoul/strtoull and
 * its own read_decimal_unsigned_long_func). To accept and refuse exactly what
 * keepalived 2.2.7 does we reproduce their corner cases here: leading
 * whitespace, signs, base prefixes, "no digits means 0 with endptr at the
 * start", ERANGE on overflow of the 64-bit type, and the decimal-places
 * rounding rule (lib/parser.c read_decimal_unsigned_long_func).
 */
import { ConfErr, type Reporter } from './diag';

const WS = ' \t\f\n\r\v';
const isWs = (c: string | undefined): boolean => c !== undefined && c !== '' && WS.includes(c);

export const INT_MIN = -2147483648;
export const INT_MAX = 2147483647;
export const UINT_MAX = 4294967295;
export const UINT32_MAX = 4294967295;
const ULONG_MAX = (1n << 64n) - 1n;
const LONG_MAX = (1n << 63n) - 1n;
const LONG_MIN = -(1n << 63n);

export interface CParse {
  value: bigint;
  /** index in the source where parsing stopped (C's endptr) */
  end: number;
  erange: boolean;
}

function digitVal(c: string): number {
  const code = c.charCodeAt(0);
  if (code >= 48 && code <= 57) return code - 48;
  if (code >= 97 && code <= 122) return code - 97 + 10;
  if (code >= 65 && code <= 90) return code - 65 + 10;
  return 99;
}

function scan(s: string, base: number): { neg: boolean; mag: bigint; end: number; any: boolean } {
  let i = 0;
  while (isWs(s[i])) i++;
  let neg = false;
  if (s[i] === '+' || s[i] === '-') {
    neg = s[i] === '-';
    i++;
  }
  let b = base;
  if ((b === 0 || b === 16) && s[i] === '0' && (s[i + 1] === 'x' || s[i + 1] === 'X') && digitVal(s[i + 2] ?? '') < 16) {
    i += 2;
    b = 16;
  } else if (b === 0) {
    b = s[i] === '0' ? 8 : 10;
  }
  let mag = 0n;
  let any = false;
  const B = BigInt(b);
  while (i < s.length && digitVal(s[i]) < b) {
    mag = mag * B + BigInt(digitVal(s[i]));
    any = true;
    i++;
  }
  return { neg, mag, end: any ? i : 0, any };
}

/** C strtoul(): unsigned long (64 bit), negation wraps, ERANGE on overflow. */
export function strtoul(s: string, base = 10): CParse {
  const r = scan(s, base);
  if (r.mag > ULONG_MAX) return { value: ULONG_MAX, end: r.end, erange: true };
  const v = r.neg ? (ULONG_MAX + 1n - r.mag) & ULONG_MAX : r.mag;
  return { value: v, end: r.end, erange: false };
}

/** C strtol(): long (64 bit), clamps with ERANGE. */
export function strtol(s: string, base = 10): CParse {
  const r = scan(s, base);
  const v = r.neg ? -r.mag : r.mag;
  if (v > LONG_MAX) return { value: LONG_MAX, end: r.end, erange: true };
  if (v < LONG_MIN) return { value: LONG_MIN, end: r.end, erange: true };
  return { value: v, end: r.end, erange: false };
}

/** keepalived read_int_func() in --config-test mode. Returns the value or null. */
export function readInt(rep: Reporter, number: string, min: number, max: number, base = 10): number | null {
  const r = strtol(number, base);
  const v = r.value;
  if (r.end < number.length) rep.error(ConfErr.INVALID_NUMBER, `invalid number '${number}'`);
  else if (r.erange || v < BigInt(INT_MIN) || v > BigInt(INT_MAX)) rep.error(ConfErr.INVALID_NUMBER, `number '${number}' outside integer range`);
  else if (v < BigInt(min) || v > BigInt(max)) rep.error(ConfErr.INVALID_NUMBER, `number '${number}' outside range [${min}, ${max}]`);
  else return Number(v);
  return null;
}

/** keepalived read_unsigned_func() in --config-test mode. */
export function readUnsigned(rep: Reporter, number: string, min: number, max: number, base = 10): number | null {
  let off = 0;
  while (isWs(number[off])) off++;
  const rest = number.slice(off);
  const r = strtoul(rest, base);
  if (number[off] === '-') rep.error(ConfErr.INVALID_NUMBER, `negative number '${number}'`);
  else if (r.end < rest.length) rep.error(ConfErr.INVALID_NUMBER, `invalid number '${number}'`);
  else if (r.erange || r.value > BigInt(UINT_MAX)) rep.error(ConfErr.INVALID_NUMBER, `number '${number}' outside unsigned integer range`);
  else if (r.value < BigInt(min) || r.value > BigInt(max)) rep.error(ConfErr.INVALID_NUMBER, `number '${number}' outside range [${min}, ${max}]`);
  else return Number(r.value);
  return null;
}

/** keepalived read_unsigned64_func() in --config-test mode. */
export function readUnsigned64(rep: Reporter, number: string, min: bigint, max: bigint): bigint | null {
  let off = 0;
  while (isWs(number[off])) off++;
  const rest = number.slice(off);
  const r = strtoul(rest, 10);
  if (number[off] === '-') rep.error(ConfErr.INVALID_NUMBER, `negative number '${number}'`);
  else if (r.end < rest.length) rep.error(ConfErr.INVALID_NUMBER, `invalid number '${number}'`);
  else if (r.erange) rep.error(ConfErr.INVALID_NUMBER, `number '${number}' outside unsigned 64 bit range`);
  else if (r.value < min || r.value > max) rep.error(ConfErr.INVALID_NUMBER, `number '${number}' outside range [${min}, ${max}]`);
  else return r.value;
  return null;
}

/**
 * keepalived read_decimal_unsigned_long_func(): a non-negative decimal with
 * at most `shift` decimal places, returned multiplied by 10^shift. Too many
 * places is reported but (unlike the integer readers) the rounded value is
 * still used in --config-test mode when it is in range.
 */
export function readDecimal(rep: Reporter, param: string, min: number, max: number, shift: number, ignoreError = true): number | null {
  if (param[0] === '-') {
    rep.error(ConfErr.INVALID_NUMBER, `negative number '${param}'`);
    return null;
  }
  const dpIdx = param.indexOf('.');
  let numDp = dpIdx >= 0 ? param.length - dpIdx - 1 : 0;
  let roundUp = false;
  if (numDp > shift) {
    rep.error(ConfErr.INVALID_NUMBER, `number '${param}' has too many decimal places`);
    roundUp = (param[dpIdx + shift + 1] ?? '') >= '5';
    numDp = shift;
  }
  let updated = dpIdx >= 0 ? param.slice(0, dpIdx) + param.slice(dpIdx + 1, dpIdx + 1 + numDp) : param;
  updated += '0'.repeat(shift - numDp);
  const r = strtoul(updated, 10);
  let val = r.value;
  if (roundUp) val++;
  const valid = r.end === updated.length;
  const dpVal = 10 ** shift;
  const fmt = (v: number): string => `${Math.floor(v / dpVal)}.${String(v % dpVal).padStart(shift, '0')}`;
  if (!valid) {
    rep.error(ConfErr.INVALID_NUMBER, `invalid number '${param}'`);
    // keepalived: `return ignore_error && val in range` — strtoull parsed a
    // numeric prefix, and keepalived goes on to use it.
    return ignoreError && val >= BigInt(min) && val <= BigInt(max) ? Number(val) : null;
  } else if (r.erange) {
    rep.error(ConfErr.INVALID_NUMBER, `number '${param}' outside unsigned decimal range`);
    return null;
  } else if (val < BigInt(min) || val > BigInt(max)) rep.error(ConfErr.INVALID_NUMBER, `number '${param}' outside range [${fmt(min)}, ${fmt(max)}]`);
  else return Number(val);
  return null;
}

/** read_timer(): seconds with up to 6 decimals, returned in microseconds. */
export function readTimerUs(rep: Reporter, s: string, minUs: number, maxUs: number, ignoreError = true): number | null {
  return readDecimal(rep, s, minUs, maxUs === 0 ? Number.MAX_SAFE_INTEGER : maxUs, 6, ignoreError);
}

/** check_true_false(): 1, 0 or -1 */
export function checkTrueFalse(s: string): 1 | 0 | -1 {
  if (s === 'true' || s === 'on' || s === 'yes') return 1;
  if (s === 'false' || s === 'off' || s === 'no') return 0;
  return -1;
}
