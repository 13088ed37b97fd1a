/**
 * keepalived's JSON dump (SIGJSON → /tmp/keepalived.json, keepalived 2.2.7
 * keepalived/vrrp/vrrp_json.c, "format v1"): a top-level array with one
 * `{"data": {...}, "stats": {...}}` object per vrrp_instance, in config order.
 * Key names, order, optional keys and value encodings follow that file, so consumers
 * written for keepalived (mehdy/keepalived-exporter --ka.json, jirutka's CGI exporter,
 * the textfile script, checkmk, KASM) read ours unchanged.
 *
 * Deliberate differences from 2.2.7:
 * - `auth_data` (the plaintext VRRP password in 2.2.7) is never written.
 * - keepalived's json_writer escapes a backslash as "\n" (a bug in lib/json_writer.c
 *   jsonw_puts); we write "\\" so the output is valid JSON. Everything else is byte-equal,
 *   including "\/" for "/", `%g` floats and `%f` for last_transition.
 */
import type { AgentSnapshot, InstanceSnapshot, ScriptSnapshot } from '../state/snapshot';
import { STATE_CODE } from './common';

type Kind = 'uint' | 'g' | 'f6' | 'bool' | 'string' | 'strings';
type Entry = [key: string, kind: Kind, value: number | boolean | string | string[]];

/** C printf "%g" (6 significant digits, trailing zeros removed, exponent when < 1e-4 or ≥ 1e6). */
export function formatG(x: number, precision = 6): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0' : '0';
  const e = x.toExponential(precision - 1); // "d.ddddde±X"
  const [mant, expStr] = e.split('e');
  const exp = Number(expStr);
  if (exp < -4 || exp >= precision) {
    const m = mant.includes('.') ? mant.replace(/0+$/, '').replace(/\.$/, '') : mant;
    const sign = exp < 0 ? '-' : '+';
    const abs = Math.abs(exp);
    return `${m}e${sign}${abs < 10 ? '0' : ''}${abs}`;
  }
  const fixed = x.toFixed(Math.max(0, precision - 1 - exp));
  return fixed.includes('.') ? fixed.replace(/0+$/, '').replace(/\.$/, '') : fixed;
}

function uint(v: number): number {
  return Number.isFinite(v) && v > 0 ? Math.trunc(v) : 0;
}

/** keepalived's vrrp_json.c writes track_script entries as the script's command line. */
function trackScriptCommands(i: InstanceSnapshot, scripts: ScriptSnapshot[]): string[] {
  const byName = new Map(scripts.map((s) => [s.name, s.command]));
  return i.track_script.map((t) => byName.get(t) ?? t);
}

function entries(i: InstanceSnapshot, scripts: ScriptSnapshot[]): { data: Entry[]; stats: Entry[] } {
  const d: Entry[] = [
    ['iname', 'string', i.iname],
    ['dont_track_primary', 'uint', i.dont_track_primary ? 1 : 0],
    ['skip_check_adv_addr', 'uint', i.skip_check_adv_addr ? 1 : 0],
    ['strict_mode', 'uint', i.strict_mode ? 1 : 0],
    ['vmac_ifname', 'string', i.vmac_ifname],
  ];
  if (i.ifp_ifname) d.push(['ifp_ifname', 'string', i.ifp_ifname]);
  d.push(
    ['master_priority', 'uint', i.master_priority],
    ['last_transition', 'f6', i.last_transition],
    ['garp_delay', 'g', i.garp_delay],
    ['garp_refresh', 'uint', i.garp_refresh],
    ['garp_rep', 'uint', i.garp_rep],
    ['garp_refresh_rep', 'uint', i.garp_refresh_rep],
    ['garp_lower_prio_delay', 'uint', i.garp_lower_prio_delay],
    ['garp_lower_prio_rep', 'uint', i.garp_lower_prio_rep],
    ['lower_prio_no_advert', 'uint', i.lower_prio_no_advert ? 1 : 0],
    ['higher_prio_send_advert', 'uint', i.higher_prio_send_advert ? 1 : 0],
    ['vrid', 'uint', i.vrid],
    ['base_priority', 'uint', i.base_priority],
    ['effective_priority', 'uint', i.effective_priority],
    ['vipset', 'bool', i.vipset],
    ['promote_secondaries', 'bool', i.promote_secondaries],
    ['adver_int', 'g', i.adver_int],
    ['master_adver_int', 'g', i.master_adver_int],
    ['accept', 'uint', i.accept ? 1 : 0],
    ['nopreempt', 'bool', i.nopreempt],
    ['preempt_delay', 'uint', i.preempt_delay],
    ['state', 'uint', STATE_CODE[i.state]],
    ['wantstate', 'uint', STATE_CODE[i.wantstate]],
    ['version', 'uint', i.version],
    ['smtp_alert', 'bool', i.smtp_alert],
    ['notify_deleted', 'bool', i.notify_deleted],
  );
  const script = (k: string, v: string | undefined) => {
    if (v) d.push([k, 'string', v]);
  };
  script('script_backup', i.script_backup);
  script('script_master', i.script_master);
  script('script_fault', i.script_fault);
  script('script_stop', i.script_stop);
  script('script_deleted', i.script_deleted);
  script('script', i.script);
  script('script_master_rx_lower_pri', i.script_master_rx_lower_pri);
  const arr = (k: string, v: string[] | undefined) => {
    if (v && v.length) d.push([k, 'strings', v]);
  };
  arr(
    'vips',
    i.vips.map((v) => v.text),
  );
  arr(
    'evips',
    i.evips.map((v) => v.text),
  );
  arr('vroutes', i.vroutes);
  arr('vrules', i.vrules);
  arr('track_ifp', i.track_interface.length ? i.track_interface : i.track_ifp?.map((t) => t.name));
  arr('track_script', trackScriptCommands(i, scripts));
  d.push(['auth_type', 'uint', i.auth_type]);
  // auth_data: never (keepalived 2.2.7 prints the plaintext password here).

  const s = i.stats;
  const stats: Entry[] = (
    [
      'advert_rcvd',
      'advert_sent',
      'become_master',
      'release_master',
      'packet_len_err',
      'advert_interval_err',
      'ip_ttl_err',
      'invalid_type_rcvd',
      'addr_list_err',
      'invalid_authtype',
      'authtype_mismatch',
      'auth_failure',
      'pri_zero_rcvd',
      'pri_zero_sent',
    ] as const
  ).map((k) => [k, 'uint', s[k]] as Entry);
  return { data: d, stats };
}

function jsValue(kind: Kind, v: Entry[2]): unknown {
  switch (kind) {
    case 'uint':
      return uint(v as number);
    case 'g':
      return Number(formatG(v as number));
    case 'f6':
      return Number((v as number).toFixed(6));
    default:
      return v;
  }
}

function toObject(list: Entry[]): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const [k, kind, v] of list) o[k] = jsValue(kind, v);
  return o;
}

export interface KeepalivedJsonInstance {
  data: Record<string, unknown>;
  stats: Record<string, number>;
}

/** The dump as a JS value (numbers already rounded the way keepalived prints them). */
export function toKeepalivedJson(snapshot: AgentSnapshot): KeepalivedJsonInstance[] {
  return snapshot.instances.map((i) => {
    const { data, stats } = entries(i, snapshot.scripts);
    return { data: toObject(data), stats: toObject(stats) as Record<string, number> };
  });
}

/** keepalived lib/json_writer.c jsonw_puts, minus its backslash bug (see header). */
export function jsonString(s: string): string {
  let out = '"';
  for (let k = 0; k < s.length; k++) {
    const c = s[k];
    switch (c) {
      case '\t':
        out += '\\t';
        break;
      case '\n':
        out += '\\n';
        break;
      case '\r':
        out += '\\r';
        break;
      case '\f':
        out += '\\f';
        break;
      case '\b':
        out += '\\b';
        break;
      case '\\':
        out += '\\\\';
        break;
      case '"':
        out += '\\"';
        break;
      case '/':
        out += '\\/';
        break;
      default: {
        const code = c.charCodeAt(0);
        // keepalived writes other control bytes raw (invalid JSON); escape them.
        out += code < 0x20 ? '\\u' + code.toString(16).padStart(4, '0') : c;
      }
    }
  }
  return out + '"';
}

function writeEntries(list: Entry[]): string {
  const parts: string[] = [];
  for (const [k, kind, v] of list) {
    let val: string;
    switch (kind) {
      case 'uint':
        val = String(uint(v as number));
        break;
      case 'g':
        val = formatG(v as number);
        break;
      case 'f6':
        val = (v as number).toFixed(6);
        break;
      case 'bool':
        val = v ? 'true' : 'false';
        break;
      case 'string':
        val = jsonString(v as string);
        break;
      case 'strings':
        val = '[' + (v as string[]).map(jsonString).join(',') + ']';
        break;
    }
    parts.push(jsonString(k) + ':' + val);
  }
  return '{' + parts.join(',') + '}';
}

/** The dump exactly as keepalived 2.2.7 writes it (one line, trailing newline). */
export function renderKeepalivedJson(snapshot: AgentSnapshot): string {
  const items = snapshot.instances.map((i) => {
    const { data, stats } = entries(i, snapshot.scripts);
    return '{"data":' + writeEntries(data) + ',"stats":' + writeEntries(stats) + '}';
  });
  return '[' + items.join(',') + ']\n';
}
