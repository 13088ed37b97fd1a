/**
 * Script command handling as keepalived 2.2.7 does it (lib/notify.c):
 * quote/escape splitting, user/group resolution (script_user,
 * keepalived_script, or the user we run as), and check_script_secure(): PATH
 * search, realpath, executability and the "no non-root writable path
 * component" rule behind enable_script_security.
 */
import type { ScriptCommand } from '../model';
import { ConfErr, type Reporter } from './diag';
import type { HostEnv } from './host';
import { StrVec } from './engine';

export const SC_INSECURE = 0x01;
export const SC_ISSCRIPT = 0x02;
export const SC_INHIBIT = 0x04;
export const SC_NOTFOUND = 0x08;
export const SC_EXECUTABLE = 0x10;
export const SC_SYSTEM = 0x40;

const S_ISUID = 0o4000;
const S_ISGID = 0o2000;
const S_ISVTX = 0o1000;
const S_IWGRP = 0o020;
const S_IWOTH = 0o002;
const S_IXUSR = 0o100;
const S_IXGRP = 0o010;
const S_IXOTH = 0o001;

const WS = ' \t\f\n\r\v';

/**
 * lib/parser.c alloc_strvec_quoted_escaped(): split on whitespace, '"' and
 * '\'' quote (and are removed), backslash escapes as in C strings. Returns
 * null for an empty result or on error (unterminated quote is a config error).
 */
export function splitQuotedEscaped(rep: Reporter, src: string): string[] | null {
  const out: string[] = [];
  let i = 0;
  let quote: string | null = null;
  while (i < src.length) {
    while (i < src.length && WS.includes(src[i])) i++;
    if (i >= src.length) break;
    let word = '';
    while (i < src.length) {
      const c = src[i];
      if (c === '\\') {
        i++;
        if (i >= src.length) {
          rep.log(`Missing escape char at end: '${src}'`);
          return null;
        }
        const e = src[i];
        if (e === 'x' && /[0-9a-fA-F]/.test(src[i + 1] ?? '')) {
          i++;
          let v = 0;
          while (i < src.length && /[0-9a-fA-F]/.test(src[i])) v = ((v << 4) | parseInt(src[i++], 16)) & 0xff;
          word += String.fromCharCode(v);
        } else if (e === 'c' && i + 1 < src.length) {
          word += String.fromCharCode(src.charCodeAt(i + 1) & 0x1f);
          i += 2;
        } else if (e >= '0' && e <= '7') {
          let v = e.charCodeAt(0) - 48;
          i++;
          for (let k = 0; k < 2 && src[i] >= '0' && src[i] <= '7'; k++) v = ((v << 3) + (src.charCodeAt(i++) - 48)) & 0xff;
          word += String.fromCharCode(v);
        } else {
          const map: Record<string, string> = { a: '\x07', b: '\b', E: '\x1b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' };
          word += map[e] ?? e;
          i++;
        }
        continue;
      }
      if (quote) {
        if (c === quote) {
          quote = null;
          i++;
          continue;
        }
        word += c;
        i++;
        continue;
      }
      if (c === '"' || c === "'") {
        quote = c;
        i++;
        continue;
      }
      if (WS.includes(c)) break;
      word += c;
      i++;
    }
    if (quote) {
      rep.error(ConfErr.UNMATCHED_QUOTE, `String '${src}': missing terminating ${quote}`);
      return null;
    }
    out.push(word);
  }
  return out.length ? out : null;
}

/** process-wide state keepalived keeps in lib/notify.c across all config passes */
export class ScriptUsers {
  private defaultSet = false;
  private defaultFail = false;
  private defUid: number;
  private defGid: number;
  scriptSecurity = false;

  constructor(
    private readonly host: HostEnv,
    private readonly rep: Reporter,
  ) {
    this.defUid = host.ourUid();
    this.defGid = host.ourGid();
  }

  /** set_uid_gid(): null on failure (logged only) */
  resolve(user: string, group?: string): { uid: number; gid: number } | null {
    const u = this.host.user(user);
    if (!u) {
      this.rep.log(`Script user '${user}' does not exist`);
      return null;
    }
    let gid = u.gid;
    if (group !== undefined) {
      const g = this.host.group(group);
      if (g === null) {
        this.rep.log(`Script group '${group}' does not exist`);
        return null;
      }
      gid = g;
    }
    return { uid: u.uid, gid };
  }

  /** set_default_script_user() (global script_user); true = failed */
  setDefault(user: string, group?: string): boolean {
    this.defaultSet = true;
    const r = this.resolve(user, group);
    if (!r) this.defaultFail = true;
    else {
      this.defUid = r.uid;
      this.defGid = r.gid;
    }
    return this.defaultFail;
  }

  /** get_default_script_user(): keepalived_script if it exists, else us */
  getDefault(): { uid: number; gid: number } | null {
    if (this.defaultFail) return null;
    if (!this.defaultSet) {
      this.defaultSet = true;
      const r = this.resolve('keepalived_script');
      if (r) {
        this.defUid = r.uid;
        this.defGid = r.gid;
      } else if (this.scriptSecurity) {
        this.rep.error(ConfErr.GENERAL_ERROR, `Unable to set default user keepalived_script for script`);
        this.defaultFail = true;
        return null;
      }
    }
    return { uid: this.defUid, gid: this.defGid };
  }
}

/**
 * lib/notify.c notify_script_init(): the keyword line (keepalived re-reads the
 * raw line with quote/escape processing) is `kw "cmd args" [user [group]]`.
 * Failures are only logged and give no script.
 */
export function notifyScriptInit(rep: Reporter, users: ScriptUsers, line: readonly string[] | null, type: string): ScriptCommand | null {
  if (!line) {
    rep.log(`Unable to parse notify script`);
    return null;
  }
  const argv = line.length >= 2 ? splitQuotedEscaped(rep, line[1]) : null;
  if (!argv) {
    // keepalived logs "Unable to parse script '%s'" with strvec_slot(strvec, 1):
    // with no word 1 that is null_strvec(), i.e. exit status 2
    if (line.length < 2) new StrVec(line, rep).slot(1);
    rep.log(`Unable to parse script '${line[1]}' - ignoring`);
    return null;
  }
  let ids: { uid: number; gid: number } | null;
  let user: string | undefined;
  let group: string | undefined;
  if (line.length > 2) {
    user = line[2];
    group = line[3];
    ids = users.resolve(user, group);
    if (!ids) {
      rep.log(`Invalid user/group for ${type} script ${argv[0]} - ignoring`);
      return null;
    }
  } else {
    ids = users.getDefault();
    if (!ids) {
      rep.log(`Failed to set default user for ${type} script ${argv[0]} - ignoring`);
      return null;
    }
  }
  return { argv, raw: line[1], user, group, uid: ids.uid, gid: ids.gid };
}

function isExecutable(mode: number, stUid: number, stGid: number, uid: number, gid: number): boolean {
  return (
    (uid === 0 && (mode & (S_IXUSR | S_IXGRP | S_IXOTH)) !== 0) ||
    (uid === stUid && (mode & S_IXUSR) !== 0) ||
    (uid !== stUid && ((gid === stGid && (mode & S_IXGRP) !== 0) || (gid !== stGid && (mode & S_IXOTH) !== 0)))
  );
}

function basename(p: string): string {
  const i = p.lastIndexOf('/');
  return i >= 0 ? p.slice(i + 1) : p;
}

function dirnameSlash(p: string): string {
  const i = p.lastIndexOf('/');
  return i >= 0 ? p.slice(0, i + 1) : '';
}

/** lib/notify.c find_path(): 0, 'ENOENT' or 'EACCES' */
function findPath(host: HostEnv, s: ScriptCommand): 0 | 'ENOENT' | 'EACCES' | 'ENAMETOOLONG' {
  const file = s.argv[0];
  if (file === '') return 'ENOENT';
  if (file.length >= 4096) return 'ENAMETOOLONG';
  if (file.includes('/')) return 0;
  if (file.length > 255) return 'ENAMETOOLONG';
  let gotEacces = false;
  for (const dir of host.pathEnv().split(':')) {
    const cand = dir === '' ? file : `${dir}/${file}`;
    const st = host.stat(cand);
    if (!st) continue;
    if (!st.isFile || !isExecutable(st.mode, st.uid, st.gid, s.uid, s.gid)) {
      gotEacces = true;
      continue;
    }
    // keepalived logs "resolved by path search" and uses the full name
    s.argv = [cand, ...s.argv.slice(1)];
    return 0;
  }
  return gotEacces ? 'EACCES' : 'ENOENT';
}

/** lib/notify.c check_security() */
function checkSecurity(host: HostEnv, rep: Reporter, filename: string, usingSecurity: boolean): number {
  const prefixes: string[] = [];
  let idx = 0;
  for (;;) {
    const slash = filename.indexOf('/', idx);
    if (slash < 0) break;
    prefixes.push(filename.slice(0, slash === 0 ? 1 : slash));
    idx = slash + 1;
  }
  const parts = [...prefixes.map((p) => ({ p, last: false })), { p: filename, last: true }];
  for (const { p, last } of parts) {
    const st = host.lstat(p);
    if (!st) {
      rep.log(`check_script_secure could not find script '${filename}' - disabling`);
      return SC_NOTFOUND;
    }
    if ((!last && !st.isDir) || (last && !st.isFile && !st.isSymlink)) {
      rep.log(`Wrong file type found in script path '${filename}'.`);
      return SC_INHIBIT;
    }
    if (st.uid !== 0 || (((st.isDir && !(st.mode & S_ISVTX)) || st.isFile) && ((st.gid !== 0 && st.mode & S_IWGRP) || st.mode & S_IWOTH))) {
      rep.log(`Unsafe permissions found for script '${filename}'${usingSecurity ? ' - disabling' : ''}.`);
      return SC_INSECURE | (usingSecurity ? SC_INHIBIT : 0);
    }
  }
  return 0;
}

/** lib/notify.c check_script_secure(): SC_* flags; may rewrite argv[0]. */
export function checkScriptSecure(host: HostEnv, rep: Reporter, s: ScriptCommand, scriptSecurity: boolean): number {
  if (!s.argv.length) return SC_NOTFOUND;
  const a0 = s.argv[0];
  const afterLt = a0.slice(1).replace(/^[ \t]*/, '');
  if (a0[0] === '<' && afterLt[0] === '/') return SC_SYSTEM;

  if (!a0.includes('/')) {
    const r = findPath(host, s);
    if (r) {
      rep.log(r === 'EACCES' ? `Permissions failure for script ${a0} in path - disabling` : `Cannot find script ${a0} in path - disabling`);
      return SC_NOTFOUND;
    }
    rep.log(`WARNING - script \`${a0}\` resolved by path search to \`${s.argv[0]}\`. Please specify full path.`);
  }

  const real = host.realpath(s.argv[0]);
  if (!real) {
    rep.log(`Script ${s.argv[0]} cannot be accessed`);
    return SC_NOTFOUND;
  }
  let newPath = real;
  let realFilePath: string | null = null;
  const orig = s.argv[0];
  if (orig !== newPath) {
    if (basename(orig) !== basename(newPath)) {
      realFilePath = newPath;
      newPath = dirnameSlash(realFilePath) + basename(orig);
      const stReal = host.stat(realFilePath);
      const stNew = host.stat(newPath);
      if (stReal && (!stNew || stReal.dev !== stNew.dev || stReal.ino !== stNew.ino)) {
        newPath = realFilePath;
        realFilePath = null;
      }
    }
    if (orig !== newPath) s.argv = [newPath, ...s.argv.slice(1)];
  }

  const st = host.stat(realFilePath ?? s.argv[0]);
  if (!st) {
    rep.log(`Unable to access script \`${s.argv[0]}\` - disabling`);
    return SC_NOTFOUND;
  }
  let flags = SC_ISSCRIPT;
  let needProtection = false;
  if (isExecutable(st.mode, st.uid, st.gid, s.uid, s.gid)) {
    flags |= SC_EXECUTABLE;
    if (s.uid === 0 || s.gid === 0 || (st.uid === 0 && st.mode & S_IXUSR && st.mode & S_ISUID) || (st.gid === 0 && st.mode & S_IXGRP && st.mode & S_ISGID)) needProtection = true;
  } else rep.log(`WARNING - script '${s.argv[0]}' is not executable for uid:gid ${s.uid}:${s.gid} - disabling.`);

  if (!needProtection) return flags;
  flags |= checkSecurity(host, rep, s.argv[0], scriptSecurity);
  if (realFilePath) flags |= checkSecurity(host, rep, realFilePath, scriptSecurity);
  return flags;
}

/** check_notify_script_secure(): disables the script when needed; returns flags */
export function checkNotifyScriptSecure(host: HostEnv, rep: Reporter, s: ScriptCommand | undefined, scriptSecurity: boolean): number {
  if (!s || s.disabled) return 0;
  const f = checkScriptSecure(host, rep, s, scriptSecurity);
  if (f & SC_INHIBIT) s.disabled = 'insecure';
  else if (f & SC_NOTFOUND) s.disabled = 'not_found';
  else if (!(f & SC_EXECUTABLE)) s.disabled = 'not_executable';
  return f;
}
