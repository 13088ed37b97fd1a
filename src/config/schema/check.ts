/**
 * The checker (LVS) process's keywords — keepalived 2.2.7
 * check/check_parser.c init_check_keywords, check/check_api.c
 * install_checker_common_keywords and check/check_{tcp,http,smtp,dns,misc,
 * udp,ping,file,bfd}.c — and the post-parse checks of check/ipwrapper.c
 * link_vsg_to_vs and check/check_data.c validate_check_config.
 */
import type { Forwarding, LvsScheduler } from '../model';
import { ConfErr } from './diag';
import { kw, root, StrVec, type Kw } from './engine';
import { checkTrueFalse, readInt, readTimerUs, readUnsigned, strtoul, UINT_MAX, UINT32_MAX } from './cnum';
import { inetAton, inetStosockaddr, isLinkLocal6, formatIp, type IpAddr } from './inet';
import { checkNotifyScriptSecure, checkScriptSecure, notifyScriptInit, splitQuotedEscaped, SC_EXECUTABLE, SC_INHIBIT, SC_INSECURE, SC_ISSCRIPT, SC_NOTFOUND, SC_SYSTEM } from './scripts';
import { orphanOf, rawLine, type CheckerDraft, type ConnDraft, type Ctx, type RsDraft, type VsDraft, type VsgDraft } from './ctx';

const TIMER_HZ = 1000000;
const LVS_MAX_TIMEOUT = 86400 * 31;
const IPVS_WEIGHT_LIMIT = 2147483647;
const SCHEDULERS: LvsScheduler[] = ['rr', 'wrr', 'lc', 'wlc', 'lblc', 'sh', 'mh', 'dh', 'fo', 'ovf', 'lblcr', 'sed', 'nq', 'twos'];
const DNS_TYPES = ['A', 'NS', 'CNAME', 'SOA', 'MX', 'TXT', 'AAAA', 'RRSIG', 'DNSKEY'];
const REGEX_OPTIONS = ['allow_empty_class', 'alt_bsux', 'auto_callout', 'caseless', 'dollar_endonly', 'dotall', 'dupnames', 'extended', 'firstline', 'match_unset_backref', 'multiline', 'never_ucp', 'never_utf', 'no_auto_capture', 'no_auto_possess', 'no_dotstar_anchor', 'no_start_optimize', 'ucp', 'ungreedy', 'utf'];

export function checkKeywords(ctx: Ctx, active: boolean): Kw[] {
  const { rep } = ctx;
  const C = ctx.check;
  const err = (m: string): void => rep.error(ConfErr.GENERAL_ERROR, m);
  /** keepalived's global checkers_queue (CHECKER_GET_CURRENT is its tail) */
  const queue: CheckerDraft[] = [];
  // A refused virtual_server / real_server without '{' leaves its lines to
  // be read with no current object (see Ctx.orphan).
  let orphanVs: VsDraft | undefined;
  const orphanRs = new WeakMap<VsDraft, RsDraft>();
  const lastVs = (): VsDraft => C.vss[C.vss.length - 1] ?? (orphanVs ??= orphanOf(ctx, 'virtual_server', newVs()));
  const lastRs = (): RsDraft => {
    const vs = lastVs();
    const rs = vs.rs[vs.rs.length - 1];
    if (rs) return rs;
    let o = orphanRs.get(vs);
    if (!o) {
      o = orphanOf(ctx, 'real_server', { file: rep.pos.file, line: rep.pos.line, addr: { family: 'inet', bytes: new Uint8Array(4), text: '0.0.0.0' }, port: 0, fwd: vs.fwd, checkers: [], trackedBfds: [] });
      orphanRs.set(vs, o);
    }
    return o;
  };
  const newVs = (): VsDraft => ({
    file: rep.pos.file,
    line: rep.pos.line,
    port: 0,
    persistenceTimeoutS: 0,
    flags: [],
    connectTimeoutUs: 5 * TIMER_HZ,
    delayLoopUs: 60 * TIMER_HZ,
    inhibit: false,
    alpha: false,
    omega: false,
    quorum: 1,
    hysteresis: 0,
    haSuspend: false,
    weight: 1,
    rs: [],
  });
  // keepalived uses the tail of its checkers queue; after a checker was
  // dropped mid-block that is another (or no) checker — never crash on it
  const orphan = (): CheckerDraft => ({ type: 'TCP_CHECK', file: '', line: 0, co: {}, logAllFailures: false, defaultRetry: 0, defaultDelayBeforeRetryUs: 0, removed: true, http: { urls: [], httpProtocol: '1.0', enableSni: false, fastRecovery: false }, smtp: { hosts: [] }, dns: { type: 'SOA' }, udp: { requireReply: false, minLen: 0, maxLen: 255 } });
  const cur = (): CheckerDraft => queue[queue.length - 1] ?? orphan();
  const co = (): ConnDraft => (cur().co ??= {});
  (ctx as Ctx & { checkersQueue?: CheckerDraft[] }).checkersQueue = queue;

  const fmtVs = (vs: VsDraft): string => (vs.vsgname ? `[${vs.vsgname}]:${vs.port}` : vs.fwmark ? `FWM ${vs.fwmark}` : `[${vs.addr?.text ?? '(none)'}]:${vs.protocol?.toLowerCase() ?? 'none'}:${vs.port}`);

  const queueChecker = (type: CheckerDraft['type'], withCo: boolean): CheckerDraft => {
    const rs = lastRs();
    const c: CheckerDraft = {
      type,
      file: rep.pos.file,
      line: rep.pos.line,
      co: withCo ? { dst: rs.addr, dstPort: rs.port } : undefined,
      logAllFailures: ctx.g.checkerLogAllFailures ?? false,
      defaultRetry: 1,
      defaultDelayBeforeRetryUs: TIMER_HZ,
    };
    queue.push(c);
    rs.checkers.push(c);
    return c;
  };
  const dequeue = (): void => {
    const c = queue.pop();
    if (!c) return;
    c.removed = true;
    for (const vs of C.vss) for (const rs of vs.rs) rs.checkers = rs.checkers.filter((x) => x !== c);
  };
  /** check_conn_opts() */
  const checkConnOpts = (c: ConnDraft | undefined): boolean => {
    if (c?.dst && c.dst.family === 'inet6' && isLinkLocal6(c.dst) && !c.bindIf) {
      err(`Checker link local address ${c.dst.text} requires a bind_if`);
      return false;
    }
    return true;
  };

  const common = (connection: boolean): Kw[] => [
    ...(connection
      ? [
          kw('connect_ip', (sv) => {
            const a = inetStosockaddr(rep, sv!.slot(1), null);
            if (!a) return err(`Invalid connect_ip address ${sv!.slot(1)} - ignoring`);
            if (co().bindto && co().bindto!.family !== a.ip.family) {
              err(`connect_ip address ${sv!.slot(1)} does not match address family of bindto - skipping`);
              co().dst = undefined;
              return;
            }
            co().dst = a.ip;
          }),
          kw('connect_port', (sv) => {
            const v = readUnsigned(rep, sv!.slot(1), 1, 65535);
            if (v === null) return err(`Invalid checker connect_port '${sv!.slot(1)}'`);
            co().dstPort = v;
          }),
          kw('bindto', (sv) => {
            const a = inetStosockaddr(rep, sv!.slot(1), null);
            if (!a) return err(`Invalid bindto address ${sv!.slot(1)} - ignoring`);
            if (co().dst && co().dst!.family !== a.ip.family) {
              err(`bindto address ${sv!.slot(1)} does not match address family of connect_ip - skipping`);
              co().bindto = undefined;
              return;
            }
            co().bindto = a.ip;
          }),
          kw('bind_port', (sv) => {
            const v = readUnsigned(rep, sv!.slot(1), 1, 65535);
            if (v === null) return err(`Invalid checker bind_port '${sv!.slot(1)}'`);
            co().bindPort = v;
          }),
          kw('bind_if', (sv) => {
            if (sv!.slot(1).length > 15) return err(`Interface name ${sv!.slot(1)} is too long - ignoring`);
            co().bindIf = sv!.slot(1);
          }),
          kw('connect_timeout', (sv) => {
            const v = readTimerUs(rep, sv!.slot(1), 1, UINT_MAX);
            if (v === null) return err(`connect_timeout ${sv!.slot(1)} invalid - ignoring`);
            co().connectTimeoutUs = v;
          }),
          kw('fwmark', (sv) => {
            const v = readUnsigned(rep, sv!.slot(1), 0, UINT_MAX);
            if (v === null) return err(`Invalid fwmark connection value '${sv!.slot(1)}'`);
            co().fwmark = v;
          }),
        ]
      : []),
    kw('retry', (sv) => {
      const v = readUnsigned(rep, sv!.slot(1), 0, UINT_MAX);
      if (v === null) return err(`Invalid retry connection value '${sv!.slot(1)}'`);
      cur().retry = v;
    }),
    kw('delay_before_retry', (sv) => {
      const v = readTimerUs(rep, sv!.slot(1), 0, 0);
      if (v === null) return err(`Invalid delay_before_retry connection value '${sv!.slot(1)}'`);
      cur().delayBeforeRetryUs = v;
    }),
    kw('warmup', (sv) => {
      const v = readTimerUs(rep, sv!.slot(1), 0, 0);
      if (v === null) return err(`Invalid warmup connection value '${sv!.slot(1)}'`);
      cur().warmupUs = v;
    }),
    kw('delay_loop', (sv) => {
      const v = readTimerUs(rep, sv!.slot(1), 1, 0);
      if (v === null) return err(`delay_loop '${sv!.slot(1)}' is invalid - ignoring`);
      cur().delayLoopUs = v;
    }),
    kw('alpha', (sv) => {
      let res = 1;
      if (sv!.size >= 2) {
        res = checkTrueFalse(sv!.slot(1));
        if (res === -1) return err(`Invalid alpha parameter ${sv!.slot(1)}`);
      }
      cur().alpha = res === 1;
    }),
    kw('log_all_failures', (sv) => {
      let res = 1;
      if (sv!.size >= 2) {
        res = checkTrueFalse(sv!.slot(1));
        if (res === -1) return err(`Invalid log_all_failures parameter ${sv!.slot(1)}`);
      }
      cur().logAllFailures = res === 1;
    }),
  ];

  // ---------------------------------------------------------------- checkers
  const simple = (name: 'TCP_CHECK' | 'PING_CHECK'): Kw =>
    kw(name, () => void queueChecker(name, true), common(true), () => {
      if (!checkConnOpts(co())) dequeue();
    });

  let miscCur: CheckerDraft | null = null;
  const miscKw = kw(
    'MISC_CHECK',
    () => {
      const c = queueChecker('MISC_CHECK', false);
      c.misc = { dynamic: false, userSet: false };
      c.defaultRetry = 0;
      miscCur = c;
    },
    [
      ...common(false),
      kw('misc_path', (sv) => {
        if (!miscCur) return;
        const line = rawLine(ctx, sv!);
        if (!line || line.length < 2) return;
        const argv = splitQuotedEscaped(rep, line[1]);
        if (!argv) return;
        miscCur.misc!.script = { argv, raw: line[1], uid: miscCur.misc!.script?.uid ?? 0, gid: miscCur.misc!.script?.gid ?? 0 };
      }),
      kw('misc_timeout', (sv) => {
        if (!miscCur) return;
        const v = readUnsigned(rep, sv!.slot(1), 0, Math.floor(UINT_MAX / TIMER_HZ));
        if (v === null) return err(`Invalid misc_timeout value '${sv!.slot(1)}'`);
        miscCur.misc!.timeoutS = v;
      }),
      kw('misc_dynamic', () => {
        if (miscCur) miscCur.misc!.dynamic = true;
      }),
      kw('user', (sv) => {
        if (!miscCur) return;
        const cmd = miscCur.misc!.script?.argv.join(' ') ?? '';
        if (sv!.size < 2) return err(`No user specified for misc checker script ${cmd}`);
        const ids = ctx.users.resolve(sv!.slot(1), sv!.raw(2));
        if (!ids) {
          err(`Failed to set uid/gid for misc checker script ${cmd} - removing`);
          dequeue();
          miscCur = null;
          return;
        }
        miscCur.misc!.userSet = true;
        miscCur.misc!.ids = { uid: ids.uid, gid: ids.gid, user: sv!.slot(1), group: sv!.raw(2) };
      }),
    ],
    () => {
      const m = miscCur;
      if (!m) return;
      if (!m.misc!.script) {
        err('No script path has been specified for MISC_CHECKER - skipping');
        dequeue();
        miscCur = null;
        return;
      }
      if (m.misc!.userSet && m.misc!.ids) Object.assign(m.misc!.script, m.misc!.ids);
      if (!m.misc!.userSet) {
        const ids = ctx.users.getDefault();
        if (!ids) {
          err(`Unable to set default user for misc script ${m.misc!.script.argv.join(' ')} - removing`);
          dequeue();
          miscCur = null;
          return;
        }
        m.misc!.script.uid = ids.uid;
        m.misc!.script.gid = ids.gid;
      }
      miscCur = null;
    },
  );

  let savedCo: ConnDraft | undefined;
  const smtpKw = kw(
    'SMTP_CHECK',
    () => {
      const c = queueChecker('SMTP_CHECK', true);
      c.co = {};
      c.smtp = { hosts: [] };
    },
    [
      kw('helo_name', (sv) => {
        if (sv!.size < 2) return err('SMTP_CHECK helo name missing');
        cur().smtp!.heloName = sv!.slot(1);
      }),
      ...common(true),
      kw(
        'host',
        () => {
          savedCo = cur().co;
          const rs = lastRs();
          cur().co = { dst: rs.addr, dstPort: rs.port };
        },
        common(true),
        () => {
          const c = cur();
          if (checkConnOpts(c.co)) c.smtp!.hosts.push(c.co!);
          c.co = savedCo;
        },
      ),
    ],
    () => {
      const c = cur();
      c.smtp!.heloName ??= 'smtpchecker.keepalived.org';
      const o = c.co!;
      const anySet = o.dst || o.dstPort || o.bindto || o.bindPort || o.bindIf || o.fwmark || o.connectTimeoutUs !== undefined;
      if (anySet || !c.smtp!.hosts.length) {
        if (!o.dst) o.dst = lastRs().addr;
        if (!o.dstPort) o.dstPort = lastRs().port;
        if (!checkConnOpts(o)) return dequeue();
      } else {
        c.co = c.smtp!.hosts.shift();
        rep.log('The SMTP_CHECK host block is deprecated. Please define additional checkers.');
      }
    },
  );

  const udpKw = kw(
    'UDP_CHECK',
    () => {
      const c = queueChecker('UDP_CHECK', true);
      c.udp = { requireReply: false, minLen: 0, maxLen: 255 };
    },
    [
      ...common(true),
      kw('payload', (sv) => {
        if (sv!.size === 1) return err('UDP_CHECK payload requires a payload');
        const hex = readHexStr(sv!.t.slice(1).join(' '), false);
        if (!hex) err('Invalid hex string for UDP_CHECK payload');
        else cur().udp!.payload = hex;
      }),
      kw('require_reply', (sv) => {
        cur().udp!.requireReply = true;
        if (sv!.size === 1) return;
        const hex = readHexStr(sv!.t.slice(1).join(' '), true);
        if (!hex) err('Invalid hex string for UDP_CHECK reply');
        else cur().udp!.reply = hex;
      }),
      kw('min_reply_length', (sv) => {
        const v = readUnsigned(rep, sv!.slot(1), 0, 65535);
        if (v === null) return err(`UDP_CHECK min length ${sv!.slot(1)} not valid - must be between 0 & 65535`);
        cur().udp!.minLen = v;
      }),
      kw('max_reply_length', (sv) => {
        const v = readUnsigned(rep, sv!.slot(1), 0, 65535);
        if (v === null) return err(`UDP_CHECK max length ${sv!.slot(1)} not valid - must be between 0 & 65535`);
        cur().udp!.maxLen = v;
      }),
    ],
    () => {
      if (!checkConnOpts(co())) return dequeue();
      const u = cur().udp!;
      if (u.minLen > u.maxLen) err(`UDP_CHECK min_reply length ${u.minLen} > max_reply_length ${u.maxLen} - will always fail`);
    },
  );

  const dnsKw = kw(
    'DNS_CHECK',
    () => {
      const c = queueChecker('DNS_CHECK', true);
      c.dns = { type: 'SOA' };
      c.defaultRetry = 3;
      c.defaultDelayBeforeRetryUs = 0;
    },
    [
      ...common(true),
      kw('type', (sv) => {
        const t = sv!.slot(1);
        // dns_type_lookup() compares case-insensitively
        const found = DNS_TYPES.find((x) => x.toLowerCase() === t.toLowerCase());
        if (!found) return err(`Unknown DNS check type ${t} - ignoring`);
        cur().dns!.type = found;
      }),
      kw('name', (sv) => {
        const d = cur().dns!;
        if (d.name !== undefined) return err('DNS_CHECK name already specified - ignoring');
        const name = sv!.slot(1);
        const invalid = (name[0] === '.' && name.length > 1) || name.includes('..');
        if (invalid) return err(`DNS_CHECK name '${name}' has empty label - ignoring`);
        d.name = name;
      }),
    ],
    () => {
      if (!checkConnOpts(co())) return dequeue();
      cur().dns!.name ??= '';
    },
  );

  const httpKw = (name: 'HTTP_GET' | 'SSL_GET'): Kw => {
    type Url = NonNullable<CheckerDraft['http']>['urls'][number];
    const lastUrl = (): Url => cur().http!.urls[cur().http!.urls.length - 1];
    return kw(
      name,
      () => {
        const c = queueChecker(name, true);
        c.http = { urls: [], httpProtocol: '1.0', enableSni: false, fastRecovery: false };
        c.defaultDelayBeforeRetryUs = 3 * TIMER_HZ;
      },
      [
        ...common(true),
        kw('nb_get_retry', (sv) => {
          err("nb_get_retry is deprecated - please use 'retry'");
          const v = readUnsigned(rep, sv!.slot(1), 0, UINT_MAX);
          if (v === null) return err(`Invalid nb_get_retry value '${sv!.slot(1)}'`);
          cur().retry = v;
        }),
        kw('virtualhost', (sv) => {
          if (sv!.size < 2) return err('HTTP_GET virtualhost name missing');
          cur().http!.virtualhost = sv!.slot(1);
        }),
        kw('http_protocol', (sv) => {
          if (sv!.size < 2) return err('Missing http_protocol version');
          const v = sv!.slot(1);
          if (v === '1.0' || v === '1.1') cur().http!.httpProtocol = v;
          else if (v === '1.0C' || v === '1.0c') cur().http!.httpProtocol = '1.0C';
          else err(`Invalid http_protocol version ${v}`);
        }),
        kw('enable_sni', (sv) => {
          let res = 1;
          if (sv!.size >= 2) {
            res = checkTrueFalse(sv!.slot(1));
            if (res === -1) return err(`Invalid enable_sni parameter ${sv!.slot(1)}`);
          }
          cur().http!.enableSni = res === 1;
        }),
        kw('fast_recovery', (sv) => {
          let res = 1;
          if (sv!.size >= 2) {
            res = checkTrueFalse(sv!.slot(1));
            if (res === -1) return err(`Invalid fast_recovery parameter ${sv!.slot(1)}`);
          }
          cur().http!.fastRecovery = res === 1;
        }),
        kw(
          'url',
          () => cur().http!.urls.push({ statusCodes: new Set(), regexNoMatch: false, regexOptions: [] }),
          [
            kw('path', (sv) => (lastUrl().path = sv!.slot(1))),
            kw('digest', (sv) => {
              const d = sv!.slot(1);
              const u = lastUrl();
              if (u.digest) return err(`Digest '${d}' is a duplicate`);
              if (d.length !== 32) return err(`digest '${d}' character length should be 32 rather than ${d.length}`);
              // keepalived parses pairs from the end with strtoul(base 16)
              for (let i = 15; i >= 0; i--) {
                const pair = d.slice(2 * i, 2 * i + 2);
                const r = strtoul(pair, 16);
                if (r.end !== 2) return err(`Unable to interpret hex digit in '${d}' at offset ${2 * i}/${2 * i + 1}`);
              }
              u.digest = d.toLowerCase();
            }),
            kw('status_code', (sv) => {
              const u = lastUrl();
              for (let i = 1; i < sv!.size; i++) {
                const s = sv!.t[i];
                const a = strtoul(s, 10);
                let min = Number(a.value);
                let max = min;
                let end = a.end;
                if (s[end] === '-') {
                  const b = strtoul(s.slice(end + 1), 10);
                  max = Number(b.value);
                  end = end + 1 + b.end;
                }
                if (end < s.length || min < 100 || min > 599 || max < 100 || max > 599 || min > max) {
                  err(`Invalid HTTP_GET status code '${s}'`);
                  continue;
                }
                for (let c = min; c <= max; c++) u.statusCodes.add(c);
              }
            }),
            kw('virtualhost', (sv) => {
              if (sv!.size < 2) return err('Missing HTTP_GET virtualhost name');
              lastUrl().virtualhost = sv!.slot(1);
            }),
            kw('regex', (sv) => {
              const line = rawLine(ctx, sv!);
              if (!line || line.length !== 2) return rep.log('regex missing or too many fields');
              lastUrl().regex = line[1];
            }),
            kw('regex_no_match', () => (lastUrl().regexNoMatch = true)),
            kw('regex_options', (sv) => {
              for (let i = 1; i < sv!.size; i++) if (REGEX_OPTIONS.includes(sv!.slot(i))) lastUrl().regexOptions.push(sv!.slot(i));
            }),
            kw('regex_min_offset', (sv) => {
              if (sv!.size !== 2) return rep.log('Missing or too may options for regex_min_offset');
              const r = strtoul(sv!.t[1], 10);
              if (r.end < sv!.t[1].length) return rep.log(`Invalid regex_min_offset ${sv!.t[1]} specified`);
              lastUrl().regexMinOffset = Number(r.value);
            }),
            kw('regex_max_offset', (sv) => {
              if (sv!.size !== 2) return rep.log('Missing or too may options for regex_max_offset');
              const r = strtoul(sv!.t[1], 10);
              if (r.end < sv!.t[1].length) return rep.log(`Invalid regex_max_offset ${sv!.t[1]} specified`);
              lastUrl().regexMaxOffset = Number(r.value);
            }),
            kw('regex_stack', (sv) => {
              if (sv!.size !== 3) return rep.log('regex_stack requires start and max values');
              const a = strtoul(sv!.t[1], 10);
              const b = strtoul(sv!.t[2], 10);
              if (a.end < sv!.t[1].length) return rep.log('regex_stack invalid start value');
              if (b.end < sv!.t[2].length) return rep.log('regex_stack invalid max value');
              if (a.value > b.value) return rep.log('regex stack start cannot exceed max value');
              lastUrl().regexStack = [Number(a.value), Number(b.value)];
            }),
          ],
          () => {
            const u = lastUrl();
            if (u.path === undefined) {
              err('HTTP/SSL_GET checker url has no path - ignoring');
              cur().http!.urls.pop();
              return;
            }
            if (!u.statusCodes.size) for (let c = 200; c <= 299; c++) u.statusCodes.add(c);
            if (u.regex === undefined && (u.regexOptions.length || u.regexNoMatch || u.regexMinOffset || u.regexMaxOffset !== undefined || u.regexStack)) {
              rep.log('regex parameters specified without regex');
              u.regexOptions = [];
              u.regexNoMatch = false;
              u.regexMinOffset = undefined;
              u.regexMaxOffset = undefined;
              u.regexStack = undefined;
            }
          },
        ),
      ],
      () => {
        if (!cur().http!.urls.length) {
          err('HTTP/SSL_GET checker has no urls specified - ignoring');
          dequeue();
          return;
        }
        if (!checkConnOpts(co())) dequeue();
      },
    );
  };

  let fileCur: CheckerDraft | null = null;
  const fileKw = kw(
    'FILE_CHECK',
    () => {
      // FILE_CHECK is not a queued checker in keepalived: it adds a tracked
      // file monitor to the real server (check/check_file.c)
      const rs = lastRs();
      fileCur = { type: 'FILE_CHECK', file: rep.pos.file, line: rep.pos.line, logAllFailures: false, defaultRetry: 0, defaultDelayBeforeRetryUs: 0, fileCheck: { weightReverse: false } };
      rs.checkers.push(fileCur);
    },
    [
      kw('track_file', (sv) => {
        const f = C.trackFiles.find((t) => t.name === sv!.slot(1));
        if (!f) return err(`track_file ${sv!.slot(1)} not found`);
        fileCur!.fileCheck!.trackFile = f.name;
      }),
      kw('weight', (sv) => {
        if (sv!.size < 2) return err('track file weight missing');
        const w = readInt(rep, sv!.slot(1), -IPVS_WEIGHT_LIMIT, IPVS_WEIGHT_LIMIT);
        if (w === null) return err(`weight for track file must be in [${-IPVS_WEIGHT_LIMIT}..${IPVS_WEIGHT_LIMIT}] inclusive. Ignoring...`);
        let reverse = false;
        if (sv!.size >= 3) {
          if (sv!.slot(2) === 'reverse') reverse = true;
          else if (sv!.slot(2) !== 'noreverse') return err(`unknown track file weight option ${sv!.slot(2)} - ignoring`);
        }
        fileCur!.fileCheck!.weight = w;
        fileCur!.fileCheck!.weightReverse = reverse;
      }),
    ],
    () => {
      const fc = fileCur!;
      if (!fc.fileCheck!.trackFile) {
        err('FILE_CHECK has no track_file specified - ignoring');
        const rs = lastRs();
        rs.checkers = rs.checkers.filter((x) => x !== fc);
        return;
      }
      if (fc.fileCheck!.weight === undefined) {
        const f = C.trackFiles.find((t) => t.name === fc.fileCheck!.trackFile)!;
        fc.fileCheck!.weight = f.weight;
        fc.fileCheck!.weightReverse = f.weightReverse;
      }
    },
  );

  let bfdCur: CheckerDraft | null = null;
  const bfdKw = kw(
    'BFD_CHECK',
    () => {
      bfdCur = queueChecker('BFD_CHECK', false);
      bfdCur.bfd = {};
    },
    [
      kw('name', (sv) => {
        const c = bfdCur;
        if (!c) return;
        const rs = lastRs();
        const where = `[${rs.addr.text}]:${rs.port}`;
        const name = sv!.raw(1) ?? '';
        let bad = true;
        if (sv!.size !== 2) err(`(${where}) BFD_CHECK - No or too many names specified - skipping checker`);
        else if (!C.trackBfds.includes(name)) err(`(${where}) BFD_CHECK - BFD ${name} not configured`);
        else if (c.bfd!.name) err(`(${where}) BFD_CHECK - BFD ${name} already specified as ${c.bfd!.name}`);
        else if (name.length >= 32) err(`(${where}) BFD_CHECK - BFD name ${name} too long`);
        else if (rs.trackedBfds.includes(name)) err(`(${where}) BFD_CHECK - RS already monitoring ${name}`);
        else bad = false;
        if (bad) {
          dequeue();
          bfdCur = null;
          return;
        }
        c.bfd!.name = name;
      }),
      kw('alpha', (sv) => {
        if (!bfdCur) return;
        let res = 1;
        if (sv!.size >= 2) {
          res = checkTrueFalse(sv!.slot(1));
          if (res === -1) return err(`Invalid alpha parameter ${sv!.slot(1)}`);
        }
        bfdCur.alpha = res === 1;
      }),
    ],
    () => {
      const c = bfdCur;
      if (!c) return;
      const rs = lastRs();
      if (!c.bfd!.name) {
        err(`([${rs.addr.text}]:${rs.port}) No name has been specified for BFD_CHECKER - skipping`);
        dequeue();
        bfdCur = null;
        return;
      }
      rs.trackedBfds.push(c.bfd!.name);
      bfdCur = null;
    },
  );

  // ---------------------------------------------------------------- forwarding
  /** svr_forwarding_handler(): returns the new forwarding or null (unchanged) */
  const forwarding = (sv: StrVec, sType: string, prev: Forwarding | undefined): Forwarding | null => {
    const m = sv.slot(1);
    if (m !== 'NAT' && m !== 'DR' && m !== 'TUN') {
      err(`PARSER : unknown [${m}] routing method for ${sType} server.`);
      return null;
    }
    const f: Forwarding = { method: m };
    let tunType: 'ipip' | 'gue' | 'gre' = 'ipip';
    let port = 0;
    let csum: 'nocsum' | 'csum' | 'remcsum' = 'nocsum';
    for (let i = 2; i < sv.size; i++) {
      const o = sv.slot(i);
      if (o === 'type') {
        if (sv.size === i + 1) {
          err(`Missing tunnel type for ${sType} server.`);
          return withMethod();
        }
        const t = sv.slot(i + 1);
        if (t === 'ipip' || t === 'gue' || t === 'gre') tunType = t;
        else {
          err(`Unknown tunnel type ${t} for ${sType} server.`);
          return withMethod();
        }
        i++;
      } else if (o === 'port') {
        if (sv.size === i + 1) {
          err(`Missing port for ${sType} server gue tunnel.`);
          return withMethod();
        }
        const p = readUnsigned(rep, sv.slot(i + 1), 1, 65535);
        if (p === null) {
          err(`Invalid gue tunnel port ${sv.slot(i + 1)} for ${sType} server.`);
          return withMethod();
        }
        port = p;
        i++;
      } else if (o === 'nocsum' || o === 'csum' || o === 'remcsum') csum = o;
      else {
        err(`Invalid tunnel option ${o} for ${sType} server.`);
        return withMethod();
      }
    }
    if ((tunType === 'gue') !== (port !== 0)) {
      err('gue tunnels require port, otherwise cannot have port.');
      return withMethod();
    }
    if (tunType === 'ipip' && csum !== 'nocsum') {
      err('ipip tunnels do not support checksum option.');
      return withMethod();
    }
    if (tunType === 'gre' && csum === 'remcsum') {
      err('gre tunnels do not support remote checksum option.');
      return withMethod();
    }
    if (m === 'TUN') {
      f.tunType = tunType;
      if (port) f.tunPort = port;
      if (tunType !== 'ipip') f.tunCsum = csum;
    }
    return f;
    // keepalived has already stored the method when it bails out on a tunnel option
    function withMethod(): Forwarding {
      return { ...(prev ?? {}), method: m } as Forwarding;
    }
  };

  // ---------------------------------------------------------------- real server
  const rsNotify = (key: 'notifyUp' | 'notifyDown', label: string) => (sv: StrVec | null): void => {
    const rs = lastRs();
    if (rs[key]) return err(`(${lastVs().vsgname ?? '(null)'}) ${label} script already specified - ignoring ${sv!.slot(1)}`);
    rs[key] = notifyScriptInit(rep, ctx.users, rawLine(ctx, sv!), 'notify') ?? undefined;
  };
  const rsSubs: Kw[] = [
    kw('weight', (sv) => {
      const v = readUnsigned(rep, sv!.slot(1), 0, IPVS_WEIGHT_LIMIT);
      if (v === null) return err(`Real server weight ${sv!.slot(1)} is outside range 0-${IPVS_WEIGHT_LIMIT}`);
      lastRs().weight = v;
    }),
    kw('lvs_method', (sv) => {
      const f = forwarding(sv!, 'real', lastRs().fwd);
      if (f) lastRs().fwd = f;
    }),
    kw('uthreshold', (sv) => {
      const v = readUnsigned(rep, sv!.slot(1), 0, UINT_MAX);
      if (v === null) return err(`Invalid real_server uthreshold '${sv!.slot(1)}' - ignoring`);
      lastRs().uthreshold = v;
    }),
    kw('lthreshold', (sv) => {
      const v = readUnsigned(rep, sv!.slot(1), 0, UINT_MAX);
      if (v === null) return err(`Invalid real_server lthreshold '${sv!.slot(1)}' - ignoring`);
      lastRs().lthreshold = v;
    }),
    kw('inhibit_on_failure', (sv) => {
      let res = 1;
      if (sv!.size >= 2) {
        res = checkTrueFalse(sv!.slot(1));
        if (res === -1) return err(`Invalid inhibit_on_failure parameter ${sv!.slot(1)}`);
      }
      lastRs().inhibit = res === 1;
    }),
    kw('notify_up', rsNotify('notifyUp', 'notify_up')),
    kw('notify_down', rsNotify('notifyDown', 'notify_down')),
    kw('alpha', (sv) => {
      let res = 1;
      if (sv!.size >= 2) {
        res = checkTrueFalse(sv!.slot(1));
        if (res === -1) return err(`Invalid alpha parameter ${sv!.slot(1)}`);
      }
      lastRs().alpha = res === 1;
    }),
    kw('retry', (sv) => {
      const v = readUnsigned(rep, sv!.slot(1), 1, UINT32_MAX);
      if (v === null) return err(`retry value invalid - ${sv!.slot(1)}`);
      lastRs().retry = v;
    }),
    kw('delay_before_retry', (sv) => {
      const v = readTimerUs(rep, sv!.slot(1), 0, 0);
      if (v === null) return err(`real server delay_before_retry '${sv!.slot(1)}' invalid - ignoring`);
      lastRs().delayBeforeRetryUs = v;
    }),
    kw('warmup', (sv) => {
      const v = readTimerUs(rep, sv!.slot(1), 0, 0);
      if (v === null) return err(`real server warmup '${sv!.slot(1)}' invalid - ignoring`);
      lastRs().warmupUs = v;
    }),
    kw('connect_timeout', (sv) => {
      const v = readTimerUs(rep, sv!.slot(1), 1, UINT_MAX);
      if (v === null) return err(`real server connect_timeout ${sv!.slot(1)} invalid - ignoring`);
      lastRs().connectTimeoutUs = v;
    }),
    kw('delay_loop', (sv) => {
      const v = readTimerUs(rep, sv!.slot(1), 1, 0);
      if (v === null) return err(`real server delay_loop '${sv!.slot(1)}' invalid - ignoring`);
      lastRs().delayLoopUs = v;
    }),
    kw('smtp_alert', (sv) => {
      let res = 1;
      if (sv!.size >= 2) {
        res = checkTrueFalse(sv!.slot(1));
        if (res === -1) return err(`Invalid real_server smtp_alert parameter ${sv!.slot(1)}`);
      }
      lastRs().smtpAlert = res === 1;
    }),
    kw('virtualhost', (sv) => {
      if (sv!.size < 2) return err('real server virtualhost missing');
      lastRs().virtualhost = sv!.slot(1);
    }),
    kw('snmp_name', (sv) => {
      if (sv!.size !== 2) return err('real server snmp_name missing or extra parameters');
      lastRs().snmpName = sv!.slot(1);
    }),
    miscKw,
    smtpKw,
    simple('TCP_CHECK'),
    simple('PING_CHECK'),
    udpKw,
    httpKw('HTTP_GET'),
    httpKw('SSL_GET'),
    dnsKw,
    fileKw,
    bfdKw,
  ];

  // ---------------------------------------------------------------- virtual server
  const vsBool = (set: (vs: VsDraft) => void) => (): void => set(lastVs());
  const vsTimer = (min: number, max: number, label: string, set: (v: number) => void) => (sv: StrVec | null): void => {
    const v = readTimerUs(rep, sv!.slot(1), min, max);
    if (v === null) return err(label.replace('%s', sv!.slot(1)));
    set(v);
  };
  const lbflags = (sv: StrVec | null): void => {
    const vs = lastVs();
    const s = sv!.slot(0);
    if (s === 'ops' || s === 'flag-1' || s === 'flag-2' || s === 'flag-3') vs.flags.push(s);
    else if (vs.sched === 'sh') {
      if (s === 'sh-port' || s === 'sh-fallback') vs.flags.push(s);
    } else if (vs.sched === 'mh') {
      if (s === 'mh-port' || s === 'mh-fallback') vs.flags.push(s);
    } else err(`${s} only applies to sh scheduler - ignoring`);
  };
  const vsNotify = (key: 'quorumUp' | 'quorumDown', label: string) => (sv: StrVec | null): void => {
    const vs = lastVs();
    if (vs[key]) return err(`(${vs.vsgname ?? '(null)'}) ${label} script already specified - ignoring ${sv!.slot(1)}`);
    vs[key] = notifyScriptInit(rep, ctx.users, rawLine(ctx, sv!), 'quorum') ?? undefined;
  };

  const vsSubs: Kw[] = [
    kw('ip_family', (sv) => {
      const vs = lastVs();
      const f = sv!.slot(1);
      if (f !== 'inet' && f !== 'inet6') return err(`unknown address family ${f}`);
      if (vs.af && vs.af !== f) return err(`Virtual server specified family ${f} conflicts with server family`);
      vs.af = f;
    }),
    kw('retry', (sv) => {
      const v = readUnsigned(rep, sv!.slot(1), 1, UINT32_MAX);
      if (v === null) return err(`retry value invalid - ${sv!.slot(1)}`);
      lastVs().retry = v;
    }),
    kw('delay_before_retry', vsTimer(0, 0, `virtual server delay before retry '%s' invalid - ignoring`, (v) => (lastVs().delayBeforeRetryUs = v))),
    kw('warmup', vsTimer(0, 0, `virtual server warmup '%s' invalid - ignoring`, (v) => (lastVs().warmupUs = v))),
    kw('connect_timeout', vsTimer(1, UINT_MAX, `virtual server connect_timeout %s invalid - ignoring`, (v) => (lastVs().connectTimeoutUs = v))),
    kw('delay_loop', vsTimer(1, 0, `virtual server delay loop '%s' invalid - ignoring`, (v) => (lastVs().delayLoopUs = v))),
    kw('inhibit_on_failure', vsBool((vs) => (vs.inhibit = true))),
    ...['lb_algo', 'lvs_sched'].map((k) =>
      kw(k, (sv) => {
        const s = sv!.slot(1);
        if (!SCHEDULERS.includes(s as LvsScheduler)) return err(`Invalid lvs_scheduler '${s}' - ignoring`);
        lastVs().sched = s as LvsScheduler;
      }),
    ),
    ...['hashed', 'ops', 'flag-1', 'flag-2', 'flag-3', 'sh-port', 'sh-fallback', 'mh-port', 'mh-fallback'].map((k) => kw(k, lbflags)),
    ...['lb_kind', 'lvs_method'].map((k) =>
      kw(k, (sv) => {
        const f = forwarding(sv!, 'virtual', lastVs().fwd);
        if (f) lastVs().fwd = f;
      }),
    ),
    kw('persistence_engine', (sv) => {
      let s = sv!.slot(1);
      if (s.length > 15) {
        err(`persistence_name too long, truncating - ${s}`);
        s = s.slice(0, 15);
      }
      lastVs().persistenceEngine = s;
    }),
    kw('persistence_timeout', (sv) => {
      if (sv!.size < 2) {
        lastVs().persistenceTimeoutS = 360;
        return;
      }
      const v = readUnsigned(rep, sv!.slot(1), 1, LVS_MAX_TIMEOUT);
      if (v === null) return err('persistence_timeout invalid');
      lastVs().persistenceTimeoutS = v;
    }),
    kw('persistence_granularity', (sv) => {
      const vs = lastVs();
      let af = vs.af;
      const s = sv!.slot(1);
      if (!af) af = s.includes('.') ? 'inet' : 'inet6';
      if (af === 'inet6') {
        const v = readUnsigned(rep, s, 1, 128);
        if (v === null) return err(`Invalid IPv6 persistence_granularity specified - ${s}`);
        vs.persistenceGranularity = String(v);
      } else {
        const a = inetAton(s);
        if (!a) return err(`Invalid IPv4 persistence_granularity specified - ${s}`);
        vs.persistenceGranularity = formatIp('inet', a);
      }
      if (!vs.af) vs.af = af;
      if (!vs.persistenceTimeoutS) vs.persistenceTimeoutS = 360;
    }),
    kw('protocol', (sv) => {
      const s = sv!.slot(1).toUpperCase();
      if (s === 'TCP' || s === 'UDP' || s === 'SCTP') lastVs().protocol = s;
      else err(`Unknown protocol ${sv!.slot(1)} - ignoring`);
    }),
    kw('ha_suspend', vsBool((vs) => (vs.haSuspend = true))),
    kw('smtp_alert', (sv) => {
      let res = 1;
      if (sv!.size >= 2) {
        res = checkTrueFalse(sv!.slot(1));
        if (res === -1) return err(`Invalid virtual_server smtp_alert parameter ${sv!.slot(1)}`);
      }
      lastVs().smtpAlert = res === 1;
    }),
    kw('virtualhost', (sv) => {
      if (sv!.size < 2) return err('virtual server virtualhost missing');
      lastVs().virtualhost = sv!.slot(1);
    }),
    kw('snmp_name', (sv) => {
      if (sv!.size !== 2) return err('virtual server snmp_name missing or extra parameters');
      lastVs().snmpName = sv!.slot(1);
    }),
    kw('alpha', vsBool((vs) => (vs.alpha = true))),
    kw('omega', vsBool((vs) => (vs.omega = true))),
    kw('quorum_up', vsNotify('quorumUp', 'quorum_up')),
    kw('quorum_down', vsNotify('quorumDown', 'quorum_down')),
    kw('quorum', (sv) => {
      let v = readUnsigned(rep, sv!.slot(1), 1, UINT_MAX);
      if (v === null) {
        err(`Quorum ${sv!.slot(1)} must be in [1, ${UINT_MAX}]. Setting to 1.`);
        v = 1;
      }
      lastVs().quorum = v;
    }),
    kw('hysteresis', (sv) => {
      const v = readUnsigned(rep, sv!.slot(1), 0, UINT_MAX);
      if (v === null) return err(`Hysteresis ${sv!.slot(1)} must be in [0, ${UINT_MAX}] - ignoring`);
      lastVs().hysteresis = v;
    }),
    kw('weight', (sv) => {
      const v = readUnsigned(rep, sv!.slot(1), 1, IPVS_WEIGHT_LIMIT);
      if (v === null) return err(`Virtual server weight ${sv!.slot(1)} is outside range 1-${IPVS_WEIGHT_LIMIT}`);
      lastVs().weight = v;
    }),
    kw('sorry_server', (sv) => {
      const vs = lastVs();
      const port = sv!.size >= 3 ? sv!.slot(2) : null;
      const portStr = port && /[^0]/.test(port) ? port : null;
      const a = inetStosockaddr(rep, sv!.slot(1), portStr);
      if (!a) return err(`Invalid sorry server IP address ${sv!.slot(1)} - skipping`);
      vs.ssvr = { addr: a.ip, port: a.port, inhibit: false, fwd: vs.fwd };
    }),
    kw('sorry_server_inhibit', () => {
      const vs = lastVs();
      if (vs.ssvr) vs.ssvr.inhibit = true;
      else err('Ignoring sorry_server inhibit used before or without sorry_server');
    }),
    kw('sorry_server_lvs_method', (sv) => {
      const vs = lastVs();
      if (!vs.ssvr) return err('sorry_server forwarding used without sorry_server');
      const f = forwarding(sv!, 'sorry', vs.ssvr.fwd);
      if (f) vs.ssvr.fwd = f;
    }),
    kw(
      'real_server',
      (sv) => {
        const vs = lastVs();
        const port = sv!.size >= 3 ? sv!.slot(2) : null;
        const portStr = port && /[^0]/.test(port) ? port : null;
        const a = inetStosockaddr(rep, sv!.slot(1), portStr);
        if (!a) {
          err(`Invalid real server ip address/port ${sv!.slot(1)}/${port ?? '(null)'} - skipping`);
          ctx.d.skipBlock(true);
          return;
        }
        vs.rs.push({ file: rep.pos.file, line: rep.pos.line, addr: a.ip, port: a.port, fwd: vs.fwd, checkers: [], trackedBfds: [] });
      },
      rsSubs,
      () => {
        // rs_end_handler(): address families must match unless tunnelled
        const vs = C.vss[C.vss.length - 1];
        if (!vs || !vs.rs.length) return;
        const rs = vs.rs[vs.rs.length - 1];
        if (rs.fwd?.method === 'TUN') return;
        if (!vs.af) vs.af = rs.addr.family;
        else if (vs.af !== rs.addr.family) {
          err(`Address family of virtual server and real server ${rs.addr.text} don't match - skipping real server.`);
          vs.rs.pop();
          for (const c of rs.checkers) c.removed = true;
        }
      },
    ),
  ];

  const vsKw = root(
    'virtual_server',
    active,
    (sv) => {
      ctx.haveCheckerConfig = true;
      if (!sv) return;
      const p1 = sv.slot(1);
      const p2 = sv.size >= 3 ? sv.slot(2) : null;
      const vs = newVs();
      if (p1 === 'group') vs.vsgname = p2 ?? '';
      else if (p1 === 'fwmark') {
        const v = readUnsigned(rep, p2 ?? '', 0, UINT32_MAX);
        if (v === null) {
          err(`virtual server fwmark '${p2}' must be in [0, ${UINT32_MAX}] - ignoring`);
          ctx.d.skipBlock(true);
          return;
        }
        // keepalived 2.2.7 tests vs->vfwmark for truth everywhere after this:
        // `fwmark 0` is an address service with no address (verified: -t
        // says "no protocol set" and "zero port only valid for persistent
        // services", exit 5)
        vs.fwmark = v;
      } else {
        const portStr = p2 && /[^0]/.test(p2) ? p2 : null;
        const a = inetStosockaddr(rep, p1, portStr);
        if (!a) {
          err(`Invalid virtual server IP address${portStr ? '/port' : ''} ${p1}${portStr ? '/' : ''}${portStr ?? ''} - skipping`);
          ctx.d.skipBlock(true);
          return;
        }
        vs.addr = a.ip;
        vs.port = a.port;
        vs.af = a.ip.family;
      }
      C.vss.push(vs);
    },
    vsSubs,
    () => {
      // vs_end_handler()
      const vs = lastVs();
      if (vs.ssvr && vs.ssvr.fwd?.method !== 'TUN') {
        if (!vs.af) vs.af = vs.ssvr.addr.family;
        else if (vs.af !== vs.ssvr.addr.family) {
          err(`Address family of virtual server and sorry server ${vs.ssvr.addr.text} don't match - skipping sorry server.`);
          vs.ssvr = undefined;
        }
      }
      if (!vs.af && !vs.vsgname) {
        let af: 'inet' | 'inet6' | undefined = vs.ssvr?.addr.family;
        let mixed = false;
        for (const rs of vs.rs) {
          if (!af) af = rs.addr.family;
          else if (af !== rs.addr.family) {
            mixed = true;
            break;
          }
        }
        vs.af = mixed || !af ? 'inet' : af;
      }
    },
  );

  const vsgKw = root('virtual_server_group', active, (sv) => {
    if (!sv) return;
    const vsg: VsgDraft = { name: sv.slot(1), entries: [], file: rep.pos.file, line: rep.pos.line, haveIpv4: false, haveIpv6: false, fwmarkNoFamily: false };
    C.vsgs.push(vsg);
    // keepalived hands the words after the name to alloc_value_block() in a
    // vector whose slot 0 is NULL; the messages that name the block read that
    // slot and so exit as a missing parameter (`virtual_server_group G x`, or
    // no '{' after the name: verified, keepalived -t exits 2)
    ctx.d.allocValueBlock(StrVec.nullFirst(sv.t.slice(2), rep), (v) => vsgEntry(vsg, v));
    if (!vsg.entries.length) {
      err(`virtual server group ${vsg.name} has no entries - removing`);
      C.vsgs.pop();
    } else if (vsg.haveIpv4 && vsg.haveIpv6 && vsg.fwmarkNoFamily) {
      err(`virtual server group ${vsg.name} cannot have IPv4, IPv6 and fwmark without family - removing`);
      C.vsgs.pop();
    }
  });

  const vsgEntry = (vsg: VsgDraft, sv: StrVec): void => {
    const addrStr = sv.slot(0);
    if (addrStr === 'fwmark') {
      const v = readUnsigned(rep, sv.slot(1), 0, UINT32_MAX);
      if (v === null) return err(`(${vsg.name}): fwmark '${sv.slot(1)}' must be in [0, ${UINT32_MAX}] - ignoring`);
      if (sv.size > 2) {
        const f = sv.slot(2);
        if (f === 'inet') vsg.haveIpv4 = true;
        else if (f === 'inet6') vsg.haveIpv6 = true;
        else return err(`(${vsg.name}): fwmark '${v}' family ${f} unknown - ignoring`);
        vsg.entries.push({ kind: 'fwmark', fwmark: v, family: f });
      } else {
        vsg.fwmarkNoFamily = true;
        vsg.entries.push({ kind: 'fwmark', fwmark: v });
      }
      return;
    }
    let portStr: string | null = sv.size >= 2 ? sv.slot(1) : null;
    if (portStr !== null && !/[^0]/.test(portStr)) portStr = null;
    const a = inetStosockaddr(rep, addrStr, portStr);
    if (!a) return err(`Invalid virtual server group IP address ${addrStr} ${portStr ? '/port' : ''}${portStr ? '/' : ''}${portStr ?? ''} - skipping`);
    const fam = a.ip.family;
    const slash = addrStr.indexOf('/');
    let end: IpAddr = a.ip;
    if (slash >= 0) {
      const r = strtoul(addrStr.slice(slash + 1), 10);
      const mask = Number(r.value);
      if (r.end < addrStr.length - slash - 1 || !mask || (fam === 'inet' && mask > 32) || (fam === 'inet6' && mask > 128)) return err(`Invalid netmask - ${addrStr} - skipping`);
      const bits = fam === 'inet' ? 32 : 128;
      const bytes = Uint8Array.from(a.ip.bytes);
      let bad = false;
      for (let bit = mask; bit < bits; bit++) {
        const byte = bit >> 3;
        const m = 0x80 >> (bit & 7);
        if (bytes[byte] & m) bad = true;
        bytes[byte] |= m;
      }
      if (bad) return err(`Address mask bits not empty - ${addrStr} - skipping`);
      end = { family: fam, bytes, text: formatIp(fam, bytes) };
      vsg.entries.push({ kind: 'range', address: a.ip.text, addressEnd: end.text, port: a.port || undefined, family: fam });
    } else {
      const dash = addrStr.indexOf('-');
      const endStr = dash >= 0 ? addrStr.slice(dash + 1) : '';
      if (dash >= 0 && ((fam === 'inet' && endStr.includes('.')) || (fam === 'inet6' && endStr.includes(':')))) {
        const b = inetStosockaddr(rep, endStr, portStr);
        if (!b) return err(`Invalid range end ${addrStr} - skipping`);
        if (b.ip.family !== fam) return err(`Range address families do not match ${addrStr} - skipping`);
        if (Buffer.compare(Buffer.from(b.ip.bytes), Buffer.from(a.ip.bytes)) < 0) return err(`Address range end is less than address range start - ${addrStr} - skipping`);
        vsg.entries.push({ kind: 'range', address: a.ip.text, addressEnd: b.ip.text, port: a.port || undefined, family: fam });
      } else if (dash >= 0) {
        // inet_stor(): a.b.c.d-N (IPv4, decimal) or x::y-N (IPv6, hex)
        const r = strtoul(endStr, fam === 'inet6' ? 16 : 10);
        const range = Number(r.value);
        if (r.end < endStr.length) rep.error(ConfErr.INVALID_NUMBER, `Virtual server group range '${addrStr}' has extra characters at end '${endStr.slice(r.end)}'`);
        else if (r.erange || (fam === 'inet6' && range > 0xffff) || (fam === 'inet' && range > 255)) {
          return rep.error(ConfErr.INVALID_NUMBER, `Virtual server group range '${addrStr}' end '${endStr}' too large`);
        }
        if (r.end < endStr.length) return; // in -t mode inet_stor() then returns false
        const bytes = Uint8Array.from(a.ip.bytes);
        const start = fam === 'inet' ? bytes[3] : (bytes[14] << 8) | bytes[15];
        if (fam === 'inet') bytes[3] = range;
        else {
          bytes[14] = range >> 8;
          bytes[15] = range & 0xff;
        }
        if (start >= range) return err(`Address range end is not greater than address range start - ${addrStr} - skipping`);
        vsg.entries.push({ kind: 'range', address: a.ip.text, addressEnd: formatIp(fam, bytes), port: a.port || undefined, family: fam });
      } else vsg.entries.push({ kind: 'address', address: a.ip.text, port: a.port || undefined, family: fam });
    }
    if (fam === 'inet') vsg.haveIpv4 = true;
    else vsg.haveIpv6 = true;
  };

  const sslKw = root(
    'SSL',
    active,
    (sv) => {
      if (!sv) return;
      if (C.ssl) err('SSL context already specified - replacing');
      C.ssl = {};
    },
    [
      ['password', 'password'],
      ['ca', 'cafile'],
      ['certificate', 'certfile'],
      ['key', 'keyfile'],
    ].map(([k, label]) =>
      kw(k, (sv) => {
        if (sv!.size < 2) return err(`SSL ${label} missing`);
        const key = k as 'password' | 'ca' | 'certificate' | 'key';
        if (C.ssl![key]) err(`SSL ${label} already specified - replacing`);
        C.ssl![key] = sv!.slot(1);
      }),
    ),
  );

  return [sslKw, vsgKw, vsKw];
}

/** lib/parser.c read_hex_str(): hex bytes, spaces allowed, X = wildcard nibble when allowed */
function readHexStr(s: string, allowWildcard: boolean): string | null {
  const hv = (c: string | undefined): number => {
    if (c === undefined) return 0xff;
    if (/[0-9]/.test(c)) return c.charCodeAt(0) - 48;
    const u = c.toUpperCase();
    if (u >= 'A' && u <= 'F') return u.charCodeAt(0) - 55;
    if (allowWildcard && u === 'X') return 0xfe;
    return 0xff;
  };
  let p = 0;
  const out: string[] = [];
  let v = 0;
  for (;;) {
    while (s[p] === ' ' || s[p] === '\t') p++;
    if (p >= s.length) break;
    v = hv(s[p++]);
    if (v === 0xff) break;
    let text = v === 0xfe ? 'x' : v.toString(16);
    if (p < s.length && s[p] !== ' ') {
      const w = hv(s[p++]);
      v = w;
      if (w === 0xff) break;
      text += w === 0xfe ? 'x' : w.toString(16);
    } else text = `0${text}`;
    out.push(text);
  }
  if (v === 0xff || !out.length) return null;
  return out.join('');
}

/** check/ipwrapper.c link_vsg_to_vs() then check/check_data.c validate_check_config() */
export function validateCheckConfig(ctx: Ctx): void {
  const { rep, g, host } = ctx;
  const C = ctx.check;
  const queue = (ctx as Ctx & { checkersQueue?: CheckerDraft[] }).checkersQueue ?? [];
  const fmtVs = (vs: VsDraft): string =>
    vs.vsgname ? `[${vs.vsgname}]:${vs.port}` : vs.fwmark ? `FWM ${vs.fwmark}` : `[${vs.addr?.text ?? '(none)'}]:${(vs.protocol ?? 'none').toLowerCase()}:${vs.port}`;

  // link_vsg_to_vs(): problems are only logged, and the VS dropped
  for (const vs of [...C.vss]) {
    if (vs.vsgname === undefined) continue;
    const at = { file: vs.file, line: vs.line };
    const vsg = C.vsgs.find((x) => x.name === vs.vsgname);
    if (!vsg) {
      rep.log(`Virtual server group ${vs.vsgname} specified but not configured - ignoring virtual server ${fmtVs(vs)}`, at);
      drop(vs);
      continue;
    }
    vs.vsg = vsg;
    const vsgAf = vsg.haveIpv4 === vsg.haveIpv6 ? undefined : vsg.haveIpv4 ? 'inet' : 'inet6';
    if (vsg.haveIpv4 && vsg.haveIpv6 && vs.af) {
      rep.log(`${vs.vsgname}: virtual server group with IPv4 & IPv6 doesn't match virtual server ${fmtVs(vs)} - ignoring`, at);
      drop(vs);
    } else if ((vsg.haveIpv4 && vs.af === 'inet6') || (vsg.haveIpv6 && vs.af === 'inet')) {
      rep.log(`${vs.vsgname}: address family doesn't match virtual server ${fmtVs(vs)} - ignoring`, at);
      drop(vs);
    } else if (vsgAf) {
      if (!vs.af) vs.af = vsgAf;
      else if (vsgAf !== vs.af) {
        rep.log(`${vs.vsgname}: address family doesn't match virtual server ${fmtVs(vs)} - ignoring`, at);
        drop(vs);
      }
    } else if (!vs.af && vsg.fwmarkNoFamily) {
      rep.log(`${vs.vsgname}: Virtual server ${fmtVs(vs)} address family cannot be determined, defaulting to IPv4`, at);
    }
  }

  function drop(vs: VsDraft): void {
    vs.removed = true;
    C.vss.splice(C.vss.indexOf(vs), 1);
    for (const rs of vs.rs) for (const c of rs.checkers) c.removed = true;
  }

  for (const vs of [...C.vss]) {
    const at = { file: vs.file, line: vs.line };
    const err = (m: string): void => rep.error(ConfErr.GENERAL_ERROR, m, at);
    if (!vs.rs.length) {
      err(`Virtual server ${fmtVs(vs)} has no real servers - ignoring`);
      drop(vs);
      continue;
    }
    const vsgFwmarks = !!vs.vsg?.entries.some((e) => e.kind === 'fwmark');
    const vsgAddrs = !!vs.vsg?.entries.some((e) => e.kind !== 'fwmark');
    if (vs.haSuspend && (!!vs.fwmark || vsgFwmarks)) {
      err(`Virtual server ${fmtVs(vs)}: cannot use ha_suspend with fwmarks - clearing ha_suspend`);
      vs.haSuspend = false;
    }
    if ((vs.vsg && vsgAddrs) || (!vs.vsg && !vs.fwmark)) {
      if (!vs.protocol) {
        err(`Virtual server ${fmtVs(vs)}: no protocol set - defaulting to UDP`);
        vs.protocol = 'UDP';
      }
      if (vs.flags.includes('ops') && vs.protocol !== 'UDP') {
        err(`Virtual server ${fmtVs(vs)}: one packet scheduling requires UDP - resetting`);
        vs.flags = vs.flags.filter((f) => f !== 'ops');
      }
      if (!vs.persistenceTimeoutS && !vs.vsg && !vs.fwmark && !vs.port) {
        err(`Virtual server ${fmtVs(vs)}: zero port only valid for persistent services - setting`);
        vs.persistenceTimeoutS = 360;
      }
    }
    if (!vs.persistenceTimeoutS && vs.vsg) {
      if (vs.vsg.entries.some((e) => e.kind !== 'fwmark' && !e.port)) {
        err(`Virtual server ${fmtVs(vs)}: zero port only valid for persistent services - setting`);
        vs.persistenceTimeoutS = 360;
      }
    }
    if (vs.protocol && ((vs.vsg && !vsgAddrs && vsgFwmarks) || (!vs.vsg && !!vs.fwmark))) {
      err(`Warning: Virtual server ${fmtVs(vs)}: protocol specified for fwmark - protocol will be ignored`);
      vs.protocol = undefined;
    }
    if (!vs.sched) {
      err(`Virtual server ${fmtVs(vs)}: no scheduler set, setting default 'wlc'`);
      vs.sched = 'wlc';
    }
    if (vs.smtpAlert === undefined) vs.smtpAlert = g.smtpAlertChecker ?? g.smtpAlert ?? false;

    let weightSum = 0;
    const kept: RsDraft[] = [];
    for (const rs of vs.rs) {
      if (kept.some((o) => o.addr.text === rs.addr.text && o.addr.family === rs.addr.family && o.port === rs.port)) {
        err(`VS ${fmtVs(vs)}: real server [${rs.addr.text}]:${(vs.protocol ?? 'none').toLowerCase()}:${rs.port} is duplicated - removing second rs`);
        for (const c of rs.checkers) c.removed = true;
        continue;
      }
      kept.push(rs);
      if (!rs.fwd) {
        if (!vs.fwd) {
          err(`Virtual server ${fmtVs(vs)}: no forwarding method set, setting default NAT`);
          vs.fwd = { method: 'NAT' };
        }
        rs.fwd = vs.fwd;
      }
      rs.alpha ??= vs.alpha;
      rs.inhibit ??= vs.inhibit;
      rs.retry ??= vs.retry;
      rs.connectTimeoutUs ??= vs.connectTimeoutUs;
      rs.delayLoopUs ??= vs.delayLoopUs;
      rs.warmupUs ??= vs.warmupUs;
      rs.delayBeforeRetryUs ??= vs.delayBeforeRetryUs;
      rs.weight ??= vs.weight;
      // real servers default to smtp_alert ON (keepalived backward compatibility)
      if (rs.smtpAlert === undefined) rs.smtpAlert = g.smtpAlertChecker ?? g.smtpAlert ?? true;
      weightSum += rs.weight;
      if (vs.ssvr && vs.ssvr.addr.text === rs.addr.text && vs.ssvr.port === rs.port) {
        if (vs.ssvr.inhibit !== rs.inhibit) {
          err(`Virtual server ${fmtVs(vs)}: real server [${rs.addr.text}]:${rs.port} matches sorry server, but inhibit setting differs, ${rs.inhibit ? 'sett' : 'clear'}ing on sorry server`);
          vs.ssvr.inhibit = rs.inhibit;
        }
      }
    }
    vs.rs = kept;
    if (vs.ssvr && !vs.ssvr.fwd) {
      if (!vs.fwd) {
        err(`Virtual server ${fmtVs(vs)}: no forwarding method set, setting default NAT`);
        vs.fwd = { method: 'NAT' };
      }
      vs.ssvr.fwd = vs.fwd;
    }
    if (vs.quorum > weightSum) {
      err(`Warning - quorum ${vs.quorum} for ${fmtVs(vs)} exceeds total weight of real servers ${weightSum}, reducing quorum to ${weightSum}`);
      vs.quorum = weightSum;
    }
    if (vs.hysteresis >= vs.quorum) {
      err(`Virtual server ${fmtVs(vs)}: hysteresis ${vs.hysteresis} >= quorum ${vs.quorum}; setting hysteresis to ${vs.quorum - 1}`);
      vs.hysteresis = Math.max(0, vs.quorum - 1);
    }
    // ports must match unless NAT
    if (vs.vsg) {
      if (vsgFwmarks) {
        for (const rs of vs.rs) if (rs.fwd!.method !== 'NAT' && rs.port) err(`WARNING - fwmark virtual server ${fmtVs(vs)}, real server [${rs.addr.text}]:${rs.port} has port specified - port will be ignored`);
        if (vs.ssvr && vs.ssvr.fwd!.method !== 'NAT' && vs.ssvr.port) err(`WARNING - fwmark virtual server ${fmtVs(vs)}, sorry server has port specified - port will be ignored`);
      }
      for (const e of vs.vsg.entries) {
        if (e.kind === 'fwmark') continue;
        for (const rs of vs.rs) {
          if (rs.fwd!.method === 'NAT') continue;
          if (rs.port && (e.port ?? 0) !== rs.port) err(`virtual server ${fmtVs(vs)}:[${e.address}] and real server [${rs.addr.text}]:${rs.port} ports don't match`);
        }
        if (vs.ssvr && vs.ssvr.fwd!.method !== 'NAT' && vs.ssvr.port && (e.port ?? 0) !== vs.ssvr.port) err(`WARNING - virtual server ${fmtVs(vs)}, sorry server has port specified - port will be ignored`);
      }
    } else {
      for (const rs of vs.rs) {
        if (rs.fwd!.method === 'NAT') {
          if (!vs.fwmark && !rs.port) rs.port = vs.port;
          continue;
        }
        if (vs.fwmark) {
          if (rs.port) {
            err(`WARNING - fwmark virtual server ${fmtVs(vs)}, real server [${rs.addr.text}]:${rs.port} has port specified - clearing`);
            rs.port = 0;
          }
        } else if (!rs.port) rs.port = vs.port;
        else if (vs.port !== rs.port) {
          err(`WARNING - virtual server ${fmtVs(vs)} and real server [${rs.addr.text}]:${rs.port} ports don't match - resetting`);
          rs.port = vs.port;
        }
      }
      if (vs.ssvr && vs.ssvr.fwd!.method !== 'NAT') {
        if (vs.fwmark) {
          if (vs.ssvr.port) {
            err(`WARNING - virtual server ${fmtVs(vs)}, sorry server has port specified - clearing`);
            vs.ssvr.port = 0;
          }
        } else if (!vs.ssvr.port) vs.ssvr.port = vs.port;
        else if (vs.port !== vs.ssvr.port) {
          err(`WARNING - virtual server ${fmtVs(vs)} and sorry server ports don't match - resetting`);
          vs.ssvr.port = vs.port;
        }
      }
    }
  }

  // check_check_script_security(): only when virtual servers remain
  if (!C.vss.length) return;
  const sec = ctx.users.scriptSecurity;
  let flags = 0;
  for (const c of queue) {
    if (c.removed || c.type !== 'MISC_CHECK' || !c.misc?.script) continue;
    const f = checkScriptSecure(host, rep, c.misc.script, sec);
    flags |= f;
    let insecure = false;
    if (f & SC_INHIBIT) {
      rep.log(`Disabling misc script ${c.misc.script.argv.join(' ')} due to insecure`);
      insecure = true;
    } else if (f & SC_NOTFOUND) {
      rep.log(`Disabling misc script ${c.misc.script.argv.join(' ')} since not found/accessible`);
      insecure = true;
    } else if (!(f & (SC_EXECUTABLE | SC_SYSTEM))) insecure = true;
    if (insecure) c.misc.script.disabled = f & SC_INHIBIT ? 'insecure' : f & SC_NOTFOUND ? 'not_found' : 'not_executable';
  }
  for (const vs of C.vss) {
    flags |= checkNotifyScriptSecure(host, rep, vs.quorumUp, sec);
    flags |= checkNotifyScriptSecure(host, rep, vs.quorumDown, sec);
    for (const rs of vs.rs) {
      flags |= checkNotifyScriptSecure(host, rep, rs.notifyUp, sec);
      flags |= checkNotifyScriptSecure(host, rep, rs.notifyDown, sec);
    }
  }
  flags |= checkNotifyScriptSecure(host, rep, g.notifyFifo.script, sec);
  flags |= checkNotifyScriptSecure(host, rep, g.lvsNotifyFifo.script, sec);
  if (!sec && flags & SC_ISSCRIPT)
    rep.error(ConfErr.SECURITY_ERROR, `SECURITY VIOLATION - check scripts are being executed but script_security not enabled.${flags & SC_INSECURE ? ' There are insecure scripts.' : ''}`, { file: C.vss[0].file, line: 0 });
}

