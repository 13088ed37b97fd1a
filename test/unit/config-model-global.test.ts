import { describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fakeHost, load, instance } from './config-model-host';
import { formatDiagnostic, formatDiagnostics, loadConfig } from '../../src/config/load';
import { dumpConfig, HIDDEN } from '../../src/config/dump';

const errs = (r: ReturnType<typeof load>): string[] => r.diagnostics.filter((d) => d.code !== 'LOG').map((d) => d.message);

describe('global_defs defaults (core/global_data.c alloc_global_data)', () => {
  it('an empty configuration is valid and has every default', () => {
    const r = load('');
    expect(r.exitCode).toBe(0);
    const g = r.config!.global;
    expect(g).toMatchObject({
      routerId: 'testhost',
      notificationEmail: [],
      smtpConnectTimeoutS: 30,
      vrrpMcastGroup4: '224.0.0.18',
      vrrpMcastGroup6: 'ff02::12',
      vrrpVersion: 2,
      vrrpGarpMasterDelayS: 5,
      vrrpGarpMasterRepeat: 5,
      vrrpGarpMasterRefreshS: 0,
      vrrpGarpMasterRefreshRepeat: 1,
      vrrpGarpLowerPrioDelayS: 5,
      vrrpGarpLowerPrioRepeat: 5,
      vrrpGarpIntervalMs: 0,
      vrrpGnaIntervalMs: 0,
      vrrpDownTimerAdverts: 3,
      vrrpStrict: false,
      vrrpSkipCheckAdvAddr: false,
      vrrpCheckUnicastSrc: false,
      vrrpStartupDelayMs: 0,
      defaultInterface: 'eth0',
      enableScriptSecurity: false,
      startupScriptTimeoutS: 10,
      shutdownScriptTimeoutS: 10,
      lvsFlushOnStop: 'none',
      childWaitTimeS: 5,
      maxAutoPriority: 0,
      minAutoPriorityDelayUs: 1000000,
      vrrpRxBufsMultiplier: 3,
      vrrpProcess: { noSwap: false, rlimitRttimeUs: 10000 },
    });
    expect(g.smtpAlert).toBeUndefined();
    expect(r.config!.instances).toEqual([]);
    expect(r.config!.virtualServers).toEqual([]);
  });

  it('parses the common global keywords', () => {
    const r = load(`global_defs {
    router_id LB1
    notification_email {
        ops@example.com
        noc@example.com
    }
    notification_email_from keepalived@example.com
    smtp_server 192.0.2.25 2525
    smtp_connect_timeout 10
    smtp_alert false
    vrrp_garp_interval 0.001
    vrrp_gna_interval 0.000001
    vrrp_garp_master_delay 2
    vrrp_startup_delay 5.5
    vrrp_skip_check_adv_addr
    vrrp_strict
    script_user nobody
    enable_script_security
    lvs_timeouts tcp 900 tcpfin 120 udp 300
    lvs_sync_daemon eth0 VI_1 id 10
    lvs_flush_on_stop VS
    umask IWGRP|IWOTH
    vrrp_min_garp
}
`);
    expect(errs(r)).toEqual([]);
    const g = r.config!.global;
    expect(g).toMatchObject({
      routerId: 'LB1',
      notificationEmail: ['ops@example.com', 'noc@example.com'],
      notificationEmailFrom: 'keepalived@example.com',
      smtpServer: { host: '192.0.2.25', port: 2525, family: 'inet' },
      smtpConnectTimeoutS: 10,
      smtpAlert: false,
      vrrpGarpIntervalMs: 1,
      vrrpGnaIntervalMs: 0.001,
      vrrpGarpMasterDelayS: 2,
      vrrpGarpLowerPrioDelayS: 2,
      vrrpStartupDelayMs: 5500,
      vrrpSkipCheckAdvAddr: true,
      vrrpStrict: true,
      scriptUser: { user: 'nobody' },
      enableScriptSecurity: true,
      lvsTimeouts: { tcpS: 900, tcpfinS: 120, udpS: 300 },
      lvsSyncDaemon: { interface: 'eth0', vrrpInstance: 'VI_1', syncId: 10 },
      lvsFlushOnStop: 'vs',
      umask: 0o22,
      vrrpMinGarp: true,
      vrrpGarpMasterRepeat: 1,
    });
  });

  it('reports invalid global values with keepalived messages and line numbers', () => {
    const r = load('global_defs {\n    vrrp_version 4\n    vrrp_mcast_group4 192.0.2.1\n    smtp_server nosuchhost.invalid\n    vrrp_garp_master_repeat 0\n}\n');
    expect(r.diagnostics.filter((d) => d.code !== 'LOG').map(formatDiagnostic)).toEqual([
      "test.conf:2: number '4' outside range [2, 3]",
      'test.conf:2: VRRP Error: Version must be either 2 or 3',
      'test.conf:3: vrrp_mcast_group4 [192.0.2.1] is not multicast. Skipping',
      'test.conf:4: Invalid smtp server nosuchhost.invalid 25',
      'test.conf:5: vrrp_garp_master_repeat must be greater than 0, setting to 1',
    ]);
    expect(r.exitCode).toBe(5);
  });

  it('a host name smtp_server is resolved like getaddrinfo', () => {
    const r = load('global_defs {\n    smtp_server localhost\n}\n');
    expect(r.exitCode).toBe(0);
    expect(r.config!.global.smtpServer).toEqual({ host: 'localhost', port: 25, family: 'inet' });
    expect(r.config!.global.smtpHeloName).toBe('testhost');
  });

  it('vrrp_iptables maps to nftables with an error (Debian build has no iptables)', () => {
    const r = load('global_defs {\n    vrrp_iptables\n}\n');
    expect(r.exitCode).toBe(5);
    expect(r.config!.global.nftables).toEqual({ table: 'keepalived', priority: -1, ifindex: false });
  });

  it('unknown interfaces in linkbeat_interfaces are CONFIG_FATAL: exit 4', () => {
    const r = load('linkbeat_interfaces {\n    ethX\n}\n');
    expect(r.exitCode).toBe(4);
    expect(r.config).toBeNull();
  });

  it('startup scripts need enable_script_security (exit 6)', () => {
    expect(load('global_defs {\n    startup_script /bin/true\n}\n').exitCode).toBe(6);
    const ok = load('global_defs {\n    startup_script "/bin/true start"\n    startup_script_timeout 20\n    enable_script_security\n    script_user root\n}\n');
    expect(ok.exitCode).toBe(0);
    expect(ok.config!.global).toMatchObject({ startupScript: { argv: ['/bin/true', 'start'] }, startupScriptTimeoutS: 20 });
  });
});

describe('static configuration', () => {
  it('static addresses default to default_interface; routes and rules are parsed', () => {
    const r = load('global_defs {\n    default_interface eth1\n}\nstatic_ipaddress {\n    192.0.2.50/24\n}\nstatic_routes {\n    203.0.113.0/24 via 198.51.100.1 dev eth1\n}\nstatic_rules {\n    from 203.0.113.0/24 table 100 priority 10\n}\n');
    expect(r.exitCode).toBe(0);
    expect(r.config!.staticAddresses[0]).toMatchObject({ address: '192.0.2.50', prefixLen: 24, dev: 'eth1' });
    expect(r.config!.staticRoutes[0]).toMatchObject({ dst: '203.0.113.0/24', via: '198.51.100.1', dev: 'eth1' });
    expect(r.config!.staticRules[0]).toMatchObject({ from: '203.0.113.0/24', table: 100, priority: 10 });
  });

  it('a static address with no usable interface is CONFIG_FATAL', () => {
    const r = load('global_defs {\n    default_interface ethX\n}\nstatic_ipaddress {\n    192.0.2.50/24\n}\n');
    expect(r.config).toBeNull();
    expect(r.diagnostics.find((d) => d.code === 'CONFIG_FATAL')).toMatchObject({ severity: 'error', line: 5 });
  });
});

describe('diagnostics, dump and files', () => {
  it('formats FILE:LINE: message', () => {
    const r = load(instance('    frobnicate'), {}, '/etc/keepalived/keepalived.conf');
    expect(formatDiagnostics(r.diagnostics.filter((d) => d.code !== 'LOG'))).toBe("/etc/keepalived/keepalived.conf:7: Unknown keyword 'frobnicate'");
  });

  it('dumpConfig is JSON and hides passwords', () => {
    const r = load('SSL {\n    password sslsecret\n}\n' + instance('    authentication {\n        auth_type PASS\n        auth_pass secret1\n    }'));
    const text = dumpConfig(r.config!);
    expect(text).not.toContain('secret1');
    expect(text).not.toContain('sslsecret');
    const j = JSON.parse(text);
    expect(j.instances[0].authentication).toEqual({ type: 'PASS', pass: HIDDEN });
    expect(j.ssl.password).toBe(HIDDEN);
    expect(j.instances[0].vrid).toBe(51);
  });

  it('loadConfig reads files and includes, with per-file line numbers', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kw-cfg-'));
    try {
      fs.writeFileSync(path.join(dir, 'keepalived.conf'), 'global_defs {\n    router_id R1\n}\ninclude conf.d/*.conf\n');
      fs.mkdirSync(path.join(dir, 'conf.d'));
      fs.writeFileSync(path.join(dir, 'conf.d', 'vi1.conf'), instance('    bogus_keyword'));
      const r = loadConfig(path.join(dir, 'keepalived.conf'), { host: fakeHost() });
      expect(r.exitCode).toBe(5);
      expect(r.config!.global.routerId).toBe('R1');
      expect(r.config!.instances[0].file).toBe(path.join(dir, 'conf.d', 'vi1.conf'));
      expect(r.files).toEqual([path.join(dir, 'keepalived.conf'), path.join(dir, 'conf.d', 'vi1.conf')]);
      const d = r.diagnostics.find((x) => x.message.includes('bogus_keyword'))!;
      expect(formatDiagnostic(d)).toBe(`${path.join(dir, 'conf.d', 'vi1.conf')}:7: Unknown keyword 'bogus_keyword'`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a missing main file: keepalived -t exits 0 (4 with -e); no config either way', () => {
    const r = loadConfig('/nonexistent/keepwatch/keepalived.conf', { host: fakeHost() });
    expect(r).toMatchObject({ config: null, exitCode: 0 });
    expect(r.diagnostics[0].message).toBe("Config files missing '/nonexistent/keepwatch/keepalived.conf'.");
    expect(loadConfig('/nonexistent/keepwatch/keepalived.conf', { host: fakeHost(), allConfig: true }).exitCode).toBe(4);
  });

  it('a required include that is missing stops keepalived after reading (exit 6)', () => {
    const r = load('includem /nonexistent/keepwatch/extra.conf\n' + instance());
    expect(r.exitCode).toBe(6);
    expect(r.config).toBeNull();
  });

  it('@config-id conditional lines follow configId', () => {
    const r = load('global_defs {\n@testhost router_id mine\n@other router_id theirs\n}\n');
    expect(r.config!.global.routerId).toBe('mine');
  });
});
