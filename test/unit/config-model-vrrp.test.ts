import { describe, expect, it } from 'vitest';
import { load, instance } from './config-model-host';
import { formatDiagnostic } from '../../src/config/load';

const errs = (r: ReturnType<typeof load>): string[] => r.diagnostics.filter((d) => d.code !== 'LOG').map((d) => d.message);

describe('vrrp_instance defaults (vrrp_data.c alloc_vrrp + vrrp_complete_instance)', () => {
  it('a minimal instance gets keepalived 2.2.7 defaults', () => {
    const r = load(instance());
    expect(r.exitCode).toBe(0);
    expect(errs(r)).toEqual([]);
    const v = r.config!.instances[0];
    expect(v).toMatchObject({
      name: 'VI_1',
      file: 'test.conf',
      line: 1,
      state: 'BACKUP',
      interface: 'eth0',
      vrid: 51,
      priority: 100,
      advertIntMs: 1000,
      version: 2,
      family: 'inet',
      nopreempt: false,
      preemptDelayMs: 0,
      accept: true,
      strictMode: false,
      unicast: false,
      unicastTtl: 255,
      smtpAlert: false,
      garpMasterDelayS: 5,
      garpMasterRepeat: 5,
      garpMasterRefreshS: 0,
      garpMasterRefreshRepeat: 1,
      garpLowerPrioDelayS: 5,
      garpLowerPrioRepeat: 5,
      downTimerAdverts: 3,
      lowerPrioNoAdvert: false,
      higherPrioSendAdvert: false,
      skipCheckAdvAddr: false,
      dontTrackPrimary: false,
    });
    expect(v.virtualIpaddresses).toEqual([
      expect.objectContaining({ address: '192.0.2.10', family: 'inet', prefixLen: 24, noTrack: false, line: 5 }),
    ]);
  });

  it('state MASTER without priority means priority 255 (address owner)', () => {
    const v = load(instance('    state MASTER')).config!.instances[0];
    expect(v.priority).toBe(255);
    expect(v.state).toBe('MASTER');
  });

  it('priority 255 without state means MASTER; priority 254 means BACKUP', () => {
    expect(load(instance('    priority 255')).config!.instances[0].state).toBe('MASTER');
    expect(load(instance('    priority 254')).config!.instances[0].state).toBe('BACKUP');
  });

  it('state MASTER with priority 100 keeps 100 (only startup behaviour changes)', () => {
    const v = load(instance('    state MASTER\n    priority 100')).config!.instances[0];
    expect(v).toMatchObject({ state: 'MASTER', priority: 100 });
  });

  it('an IPv6 instance is VRRPv3 and has no TTL default', () => {
    const v = load(instance('', 'VI_6', 60, 'fe80::10/64')).config!.instances[0];
    expect(v).toMatchObject({ family: 'inet6', version: 3, unicastTtl: undefined });
    expect(v.virtualIpaddresses[0]).toMatchObject({ address: 'fe80::10', prefixLen: 64, preferredLft: 0xffffffff });
  });

  it('global vrrp_version 3 and vrrp_strict apply to instances', () => {
    const r = load(`global_defs {\n    vrrp_version 3\n    vrrp_strict\n}\n${instance('    priority 255')}`);
    expect(r.exitCode).toBe(0);
    const v = r.config!.instances[0];
    expect(v).toMatchObject({ version: 3, strictMode: true, accept: true, lowerPrioNoAdvert: true, garpLowerPrioRepeat: 0, garpLowerPrioDelayS: 0 });
    expect(r.config!.global.nftables).toBeUndefined();
  });

  it('strict mode without address ownership turns accept off and needs nftables', () => {
    const r = load(`global_defs {\n    vrrp_strict\n}\n${instance()}`);
    expect(r.config!.instances[0].accept).toBe(false);
    expect(r.config!.global.nftables).toMatchObject({ table: 'keepalived', priority: -1 });
  });
});

describe('virtual_router_id / priority / state errors', () => {
  it('VRID outside 1..255 is reported at its line and the instance refused', () => {
    const r = load(instance('').replace('virtual_router_id 51', 'virtual_router_id 256'));
    expect(r.exitCode).toBe(5);
    expect(r.config).toBeNull();
    expect(r.diagnostics.map(formatDiagnostic)).toEqual(
      expect.arrayContaining([
        "test.conf:3: number '256' outside range [1, 255]",
        "test.conf:3: (VI_1): VRID '256' not valid - must be between 1 & 255",
        'test.conf:1: (VI_1) the virtual router id must be set',
      ]),
    );
  });

  it('a missing virtual_router_id is refused', () => {
    const r = load('vrrp_instance VI_1 {\n    interface eth0\n    virtual_ipaddress {\n        192.0.2.1\n    }\n}\n');
    expect(r.exitCode).toBe(5);
    expect(r.config).toBeNull();
    expect(errs(r)).toContain('(VI_1) the virtual router id must be set');
  });

  it('a keyword without its parameter exits with 2, like keepalived', () => {
    const r = load(instance('    priority'));
    expect(r.exitCode).toBe(2);
    expect(r.config).toBeNull();
    expect(formatDiagnostic(r.diagnostics.find((d) => d.severity === 'error')!)).toBe(
      'test.conf:7: *** Configuration line starting `priority` is missing a parameter after keyword `priority` at word position 2',
    );
  });

  it('invalid priority falls back to 100 with an error', () => {
    const r = load(instance('    priority 0'));
    expect(r.exitCode).toBe(5);
    expect(r.config!.instances[0].priority).toBe(100);
    expect(errs(r)).toContain('(VI_1) Priority not valid! must be between 1 & 255. Using default 100');
  });

  it('unknown state defaults to BACKUP', () => {
    const r = load(instance('    state ACTIVE\n    priority 255'));
    expect(errs(r)).toContain("(VI_1) unknown state 'ACTIVE', defaulting to BACKUP");
    expect(r.config!.instances[0].state).toBe('BACKUP');
  });

  it('duplicate VRID on one interface and family is refused; other families and groups are fine', () => {
    const dup = load(instance() + instance('', 'VI_2', 51, '192.0.2.11'));
    expect(dup.exitCode).toBe(5);
    expect(dup.config).toBeNull();
    expect(errs(dup)).toContain('VI_1 and VI_2 both use VRID 51 with IPv4 on interface eth0');

    expect(load(instance() + instance('', 'VI_2', 51, 'fe80::1')).exitCode).toBe(0);
    expect(load(instance() + instance('    mcast_dst_ip 224.0.0.20', 'VI_2', 51, '192.0.2.11')).exitCode).toBe(0);
    expect(load(instance() + instance('', 'VI_2', 51, '192.0.2.11').replace('eth0', 'eth1')).exitCode).toBe(0);
  });

  it('unicast instances may share a VRID when their peers differ (2.2.7)', () => {
    const a = '    unicast_src_ip 192.0.2.2\n    unicast_peer {\n        192.0.2.3\n    }';
    const b = '    unicast_src_ip 192.0.2.2\n    unicast_peer {\n        192.0.2.4\n    }';
    expect(load(instance(a) + instance(b, 'VI_2', 51, '192.0.2.11')).exitCode).toBe(0);
    const same = load(instance(a) + instance(a, 'VI_2', 51, '192.0.2.11'));
    expect(same.exitCode).toBe(5);
    expect(errs(same)).toContain('(VI_1) duplicate VRID conflict with VI_2 VRID 51');
  });
});

describe('advert_int (RFC 3768 §5.3.7 whole seconds, RFC 5798 §5.2.7 centiseconds)', () => {
  it('v2 rounds to whole seconds with an error', () => {
    const r = load(instance('    advert_int 1.5'));
    expect(r.exitCode).toBe(5);
    expect(r.config!.instances[0].advertIntMs).toBe(2000);
    expect(errs(r)).toContain('(VI_1) VRRPv2 advertisement interval 1.500000s must be an integer. rounding');
    expect(load(instance('    advert_int 0.4')).config!.instances[0].advertIntMs).toBe(1000);
  });

  it('v3 allows centiseconds, rounds finer values, clamps above 40.95 s', () => {
    expect(load(instance('    version 3\n    advert_int 0.25')).config!.instances[0].advertIntMs).toBe(250);
    const r = load(instance('    version 3\n    advert_int 0.015'));
    expect(r.config!.instances[0].advertIntMs).toBe(20);
    expect(errs(r)).toContain('(VI_1) VRRPv3 advertisement interval 0.015000s must be in units of 10ms - rounding');
    const big = load(instance('    version 3\n    advert_int 41'));
    expect(big.config!.instances[0].advertIntMs).toBe(40950);
  });

  it('values outside 0.01..255 are ignored (default 1 s kept)', () => {
    const r = load(instance('    advert_int 0'));
    expect(r.config!.instances[0].advertIntMs).toBe(1000);
    expect(errs(r)).toContain('(VI_1) Advert interval (0) not valid! Must be > 0 - ignoring');
  });
});

describe('virtual_ipaddress entry syntax (vrrp_ipaddress.c alloc_ipaddress)', () => {
  it('parses every option', () => {
    const vips = [
      '192.0.2.10/24 brd 192.0.2.255 dev eth0 scope link label eth0:vip',
      '192.0.2.11/24 brd + dev eth0',
      '192.0.2.12/24 brd -',
      '192.0.2.13 peer 192.0.2.99 dev eth1 home -nodad mngtmpaddr noprefixroute autojoin no_track',
      '2001:db8::1/128 preferred_lft 30',
      '2001:db8::2/64 use_vmac',
    ].join('\n        ');
    const r = load(instance('', 'VI_1', 51, vips).replace('192.0.2.10/24 brd', '192.0.2.10/24 brd'));
    // the IPv6 ones differ in family from the first: keepalived drops them with an error
    expect(errs(r)).toEqual(['(VI_1): address family must match VRRP instance [2001:db8::1/128] - ignoring', '(VI_1): address family must match VRRP instance [2001:db8::2/64] - ignoring']);
    const [a, b, c, d] = r.config!.instances[0].virtualIpaddresses;
    expect(a).toMatchObject({ address: '192.0.2.10', prefixLen: 24, broadcast: '192.0.2.255', dev: 'eth0', scope: 253, label: 'eth0:vip' });
    expect(b).toMatchObject({ broadcast: '192.0.2.255' });
    expect(c).toMatchObject({ broadcast: '192.0.2.0' });
    expect(d).toMatchObject({ peer: '192.0.2.99', prefixLen: 32, dev: 'eth1', home: true, noDad: true, mngTmpAddr: true, noPrefixRoute: true, autoJoin: true, noTrack: true });
  });

  it('IPv6 /128 VIPs default to preferred_lft 0 (deprecated), forever otherwise', () => {
    const v = load(instance('', 'VI_1', 51, 'fe80::1/64\n        2001:db8::1/128\n        2001:db8::2/128 preferred_lft forever')).config!.instances[0];
    expect(v.virtualIpaddresses.map((x) => x.preferredLft)).toEqual([0xffffffff, 0, 0xffffffff]);
  });

  it('rejects bad addresses and options with keepalived messages', () => {
    const r = load(instance('', 'VI_1', 51, '192.0.2.300\n        192.0.2.5/33\n        192.0.2.6 frob\n        192.0.2.7 brd'));
    expect(errs(r)).toEqual([
      'VRRP parsed invalid IP 192.0.2.300. skipping IP...',
      "number '33' outside range [0, 32]",
      'Invalid address prefix len 33 for address 192.0.2.5/33 - using 32',
      "Unknown configuration entry 'frob' for ip address - ignoring",
      'No brd parameter specified for 192.0.2.7',
    ]);
    expect(r.config!.instances[0].virtualIpaddresses.map((v) => `${v.address}/${v.prefixLen}`)).toEqual(['192.0.2.5/32', '192.0.2.6/32']);
  });

  it('a VIP on an unknown interface stops the VRRP process (CONFIG_BAD_IF)', () => {
    const r = load(instance('', 'VI_1', 51, '192.0.2.10 dev ethX'));
    expect(r.exitCode).toBe(5);
    expect(r.config).toBeNull();
    expect(r.diagnostics.some((d) => d.code === 'CONFIG_BAD_IF' && d.severity === 'error')).toBe(true);
  });

  it('no VIPs: a warning for v2, refused for v3', () => {
    const none = 'vrrp_instance VI_1 {\n    interface eth0\n    virtual_router_id 1\n';
    expect(load(`${none}}\n`).exitCode).toBe(5);
    expect(load(`${none}}\n`).config).not.toBeNull();
    const v3 = load(`${none}    version 3\n}\n`);
    expect(v3.config).toBeNull();
    expect(errs(v3)).toContain('(VI_1) No VIP specified; at least one is required');
  });
});

describe('tracking references are resolved in file order', () => {
  const sec = 'global_defs {\n    enable_script_security\n    script_user root\n}\n';
  const script = 'vrrp_script chk {\n    script "/bin/true"\n    weight -20\n    rise 2\n    fall 3\n}\n';

  it('track_script picks up the script weight, overridable per instance', () => {
    const r = load(sec + script + instance('    track_script {\n        chk\n    }') + instance('    track_script {\n        chk weight 10 reverse\n    }', 'VI_2', 52, '198.51.100.1'));
    expect(r.exitCode).toBe(0);
    expect(r.config!.scripts[0]).toMatchObject({ name: 'chk', intervalS: 1, timeoutS: 0, weight: -20, rise: 2, fall: 3, initFail: false });
    expect(r.config!.scripts[0].script).toMatchObject({ argv: ['/bin/true'], uid: 0, gid: 0 });
    expect(r.config!.instances[0].trackScripts).toEqual([{ name: 'chk', weight: -20, reverse: false }]);
    expect(r.config!.instances[1].trackScripts).toEqual([{ name: 'chk', weight: 10, reverse: true }]);
  });

  it('a script defined after the instance is "not found" (keepalived reads in order)', () => {
    const r = load(sec + instance('    track_script {\n        chk\n    }') + script);
    expect(r.exitCode).toBe(5);
    expect(errs(r)).toContain('(VI_1) track script chk not found, ignoring...');
  });

  it('undefined track_file / track_process / track_bfd / track_interface are reported', () => {
    const r = load(instance('    track_file {\n        tf\n    }\n    track_process {\n        tp\n    }\n    track_bfd {\n        b\n    }\n    track_interface {\n        eth1 weight 300\n    }'));
    expect(errs(r)).toEqual(
      expect.arrayContaining([
        '(VI_1) track file tf not found, ignoring...',
        '(VI_1) track process tp not found, ignoring...',
        '(VI_1) track bfd b not found, ignoring...',
        '(VI_1) weight 300 for eth1 must be between [-253..253] inclusive. Ignoring...',
      ]),
    );
  });

  it('track_file and vrrp_track_process blocks with defaults', () => {
    const r = load(
      'track_file tf {\n    file /run/tf\n}\nvrrp_track_process tp {\n    process nginx -g daemon\n    delay 1.5\n}\n' +
        instance('    track_file {\n        tf weight 0\n    }\n    track_process {\n        tp weight 5\n    }'),
    );
    expect(r.exitCode).toBe(0);
    expect(r.config!.trackFiles[0]).toMatchObject({ name: 'tf', path: '/run/tf', weight: 1, weightReverse: false });
    expect(r.config!.trackProcesses[0]).toMatchObject({
      name: 'tp',
      process: 'nginx',
      params: ['-g', 'daemon'],
      paramMatch: 'exact',
      weight: 0,
      quorum: 1,
      quorumMax: undefined,
      terminateDelayMs: 1500,
      forkDelayMs: 1500,
      fullCommand: true,
    });
    expect(r.config!.instances[0].trackFiles).toEqual([{ name: 'tf', weight: 0, reverse: false }]);
    expect(r.config!.instances[0].trackProcesses).toEqual([{ name: 'tp', weight: 5, reverse: false }]);
  });

  it('address owners ignore weighted tracking (vrrp_complete_instance)', () => {
    const r = load(sec + script + instance('    priority 255\n    track_script {\n        chk\n    }\n    track_interface {\n        eth1 weight 10\n    }'));
    expect(errs(r)).toEqual(['(VI_1) ignoring eth1 tracked interface due to address owner', '(VI_1) ignoring tracked script chk with weights due to address_owner']);
    expect(r.config!.instances[0].trackScripts).toEqual([]);
    expect(r.config!.instances[0].trackInterfaces).toEqual([]);
  });
});

describe('script security (lib/notify.c check_script_secure)', () => {
  const script = 'vrrp_script chk {\n    script "/bin/true"\n}\n';
  it('scripts without enable_script_security give exit code 6', () => {
    const r = load(script + instance('    track_script {\n        chk\n    }'));
    expect(r.exitCode).toBe(6);
    expect(r.config).not.toBeNull();
    expect(errs(r)).toContain('SECURITY VIOLATION - scripts are being executed but script_security not enabled.');
  });

  it('a notify script that does not exist is only logged', () => {
    const r = load(instance('    notify_master /etc/keepalived/missing.sh'));
    expect(r.exitCode).toBe(0);
    expect(r.config!.instances[0].notify.master).toMatchObject({ argv: ['/etc/keepalived/missing.sh'], disabled: 'not_found' });
  });

  it('with enable_script_security but no keepalived_script user, scripts are removed', () => {
    const r = load('global_defs {\n    enable_script_security\n}\n' + script + instance('    track_script {\n        chk\n    }'));
    expect(r.exitCode).toBe(5);
    expect(errs(r)).toEqual(['Unable to set default user keepalived_script for script', 'Unable to set default user for vrrp script chk - removing', '(VI_1) track script chk not found, ignoring...']);
  });

  it('world-writable scripts are disabled under script security', () => {
    const r = load('global_defs {\n    enable_script_security\n    script_user root\n}\nvrrp_script chk {\n    script /tmp/world-writable.sh\n}\n' + instance('    track_script {\n        chk\n    }'));
    expect(r.exitCode).toBe(5);
    expect(errs(r)).toContain('Disabling track script chk due to insecure');
  });

  it('notify scripts keep user and group and quoted arguments', () => {
    const r = load('global_defs {\n    enable_script_security\n}\n' + instance('    notify_master "/etc/keepalived/notify.sh master \'two words\'" nobody nogroup'));
    expect(r.exitCode).toBe(0);
    expect(r.config!.instances[0].notify.master).toMatchObject({ argv: ['/etc/keepalived/notify.sh', 'master', 'two words'], user: 'nobody', group: 'nogroup', uid: 65534, gid: 65534 });
  });
});

describe('vrrp_strict conflicts (§3.10)', () => {
  const strict = 'global_defs {\n    vrrp_strict\n}\n';
  it('authentication, preempt_delay, down_timer_adverts and state are corrected', () => {
    const r = load(strict + instance('    state MASTER\n    priority 100\n    preempt_delay 5\n    down_timer_adverts 5\n    authentication {\n        auth_type PASS\n        auth_pass 1111\n    }'));
    expect(r.exitCode).toBe(5);
    expect(errs(r)).toEqual([
      '(VI_1) State MASTER must match being address owner',
      '(VI_1) Strict mode does not support authentication. Ignoring.',
      '(VI_1) preempt_delay is incompatible with strict mode - resetting',
      '(VI_1) down_timer_adverts is incompatible with strict mode - resetting',
    ]);
    expect(r.config!.instances[0]).toMatchObject({ state: 'BACKUP', authentication: undefined, preemptDelayMs: 0, downTimerAdverts: 3 });
  });

  it('IPv6 VIPs must start with a link-local address in strict mode', () => {
    const r = load(strict + instance('', 'VI_1', 51, '2001:db8::1/64'));
    expect(errs(r)).toContain('(VI_1) the first IPv6 VIP address must be link local');
  });
});

describe('preemption, authentication, unicast', () => {
  it('nopreempt is cleared for MASTER and priority 255', () => {
    expect(errs(load(instance('    state MASTER\n    priority 200\n    nopreempt')))).toEqual(['(VI_1) Warning - nopreempt will not work with initial state MASTER - clearing']);
    expect(load(instance('    nopreempt')).config!.instances[0].nopreempt).toBe(true);
  });

  it('auth_pass is limited to 8 bytes and unusable with v3', () => {
    const r = load(instance('    authentication {\n        auth_type PASS\n        auth_pass 123456789\n    }'));
    expect(errs(r)).toEqual(['Truncating auth_pass to 8 characters']);
    expect(r.config!.instances[0].authentication).toEqual({ type: 'PASS', pass: '12345678' });
    expect(errs(load(instance('    version 3\n    authentication {\n        auth_type AH\n        auth_pass x\n    }')))).toEqual(['(VI_1) VRRP version 3 does not support authentication. Ignoring.']);
  });

  it('unicast peers switch the instance to unicast', () => {
    const r = load(instance('    unicast_src_ip 192.0.2.2/24\n    unicast_ttl 10\n    unicast_peer {\n        192.0.2.3\n        192.0.2.4 min_ttl 250 max_ttl 255\n    }'));
    expect(r.exitCode).toBe(0);
    expect(r.config!.instances[0]).toMatchObject({
      unicast: true,
      srcIp: '192.0.2.2',
      unicastTtl: 10,
      checkUnicastSrc: true,
      unicastPeers: [
        { address: '192.0.2.3', minTtl: 0, maxTtl: 255 },
        { address: '192.0.2.4', minTtl: 250, maxTtl: 255 },
      ],
    });
  });

  it('unicast keywords without peers fall back to multicast (deprecated)', () => {
    const r = load(instance('    unicast_src_ip 192.0.2.2'));
    expect(r.exitCode).toBe(5);
    expect(r.config!.instances[0].unicast).toBe(false);
    expect(r.diagnostics.find((d) => d.code === 'CONFIG_DEPRECATED')).toBeTruthy();
  });

  it('an interface without multicast needs unicast peers', () => {
    const r = load(instance('').replace('eth0', 'nomc0'));
    expect(errs(r)).toEqual(['(VI_1) interface nomc0 does not support multicast, specify unicast peers - disabling']);
    expect(r.config!.instances[0].configFault).toBe('interface does not support multicast');
  });

  it('loopback interfaces cannot carry VRRP', () => {
    const r = load(instance('').replace('eth0', 'lo'));
    expect(r.config).toBeNull();
    expect(errs(r)).toEqual(['(VI_1) cannot use a loopback interface (lo) for vrrp - ignoring', '(VI_1) Unknown interface!']);
  });
});

describe('sync groups (vrrp_sync.c vrrp_sync_set_group)', () => {
  it('members, notify scripts and the one-member warning', () => {
    const ok = load('vrrp_sync_group G {\n    group {\n        VI_1\n        VI_2\n    }\n    notify_master "/bin/true"\n}\nglobal_defs {\n    enable_script_security\n    script_user root\n}\n' + instance() + instance('', 'VI_2', 52, '198.51.100.1'));
    expect(ok.exitCode).toBe(0);
    expect(ok.config!.syncGroups[0]).toMatchObject({ name: 'G', members: ['VI_1', 'VI_2'], smtpAlert: false });
    expect(ok.config!.instances.map((i) => i.syncGroup)).toEqual(['G', 'G']);
    const one = load('vrrp_sync_group G {\n    group {\n        VI_1\n        VI_9\n    }\n}\n' + instance());
    expect(errs(one)).toEqual(['Virtual router VI_9 specified in sync group G doesn\'t exist - ignoring', "Sync group G has only 1 virtual router(s) - this probably isn't what you want"]);
  });
});

describe('virtual_routes / virtual_rules', () => {
  it('parses routes and rules with keepalived defaults', () => {
    const r = load(
      instance(
        '    virtual_routes {\n        0.0.0.0/0 via 192.0.2.1 dev eth0\n        blackhole 198.51.100.0/24 no_track\n        203.0.113.0/24 via 192.0.2.254 dev eth0 metric 10 table vip\n    }\n' +
          '    virtual_rules {\n        from 192.0.2.0/24 table 100 priority 100\n        to 198.51.100.0/24 goto 200 priority 150\n    }',
      ),
    );
    expect(r.exitCode).toBe(0);
    const v = r.config!.instances[0];
    expect(v.virtualRoutes.map((x) => [x.dst, x.via, x.dev, x.table, x.type, x.metric, x.noTrack, x.protocol])).toEqual([
      ['0.0.0.0/0', '192.0.2.1', 'eth0', 254, undefined, undefined, false, 18],
      ['198.51.100.0/24', undefined, undefined, 254, 'blackhole', undefined, true, undefined],
      ['203.0.113.0/24', '192.0.2.254', 'eth0', 100, undefined, 10, false, 18],
    ]);
    expect(v.virtualRules.map((x) => [x.from, x.to, x.action, x.table, x.gotoTarget, x.priority])).toEqual([
      ['192.0.2.0/24', undefined, 'table', 100, undefined, 100],
      [undefined, '198.51.100.0/24', 'goto', undefined, 200, 150],
    ]);
  });

  it('a tracked route needs an interface; a rule needs a preference', () => {
    const r = load(instance('    virtual_routes {\n        0.0.0.0/0 via 192.0.2.1\n    }\n    virtual_rules {\n        from 192.0.2.0/24 table 100\n    }'));
    expect(r.exitCode).toBe(5);
    expect(errs(r)).toEqual([
      'Warning - cannot track route 0.0.0.0/0 with no interface specified, not tracking',
      'Rule has no preference specified - setting to 16384. This is probably not what you want.',
    ]);
    expect(r.config!.instances[0].virtualRules[0]).toMatchObject({ priority: 16384, priorityDefaulted: true });
  });
});

describe('keyword dispatch like lib/parser.c process_stream', () => {
  it('unknown keywords are reported with their line and skipped', () => {
    const r = load(instance('    colour blue'));
    expect(r.exitCode).toBe(5);
    expect(r.config).not.toBeNull();
    expect(r.diagnostics.map(formatDiagnostic)).toContain("test.conf:7: Unknown keyword 'colour'");
  });

  it("an unknown block's '}' closes the enclosing block, as in keepalived", () => {
    const r = load('vrrp_instance VI_1 {\n    interface eth0\n    frob {\n        x 1\n    }\n    virtual_router_id 5\n    virtual_ipaddress {\n        192.0.2.1\n    }\n}\n');
    // after `frob`'s '}' closed the instance, virtual_router_id is a top-level keyword
    expect(errs(r)).toEqual(expect.arrayContaining(["Unknown keyword 'frob'", "Unknown keyword 'x'", "Unknown keyword 'virtual_router_id'", '(VI_1) the virtual router id must be set']));
    expect(r.config).toBeNull();
  });

  it('duplicate instance names: the second block is skipped', () => {
    const r = load(instance() + instance('    priority 7', 'VI_1', 52));
    expect(errs(r)).toEqual(['vrrp instance VI_1 already defined']);
    expect(r.config!.instances).toHaveLength(1);
    expect(r.config!.instances[0].priority).toBe(100);
  });
});
