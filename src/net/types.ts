/**
 * Southbound adapter interfaces (shared/design.md "small adapters"). The VRRP instance
 * runner (src/vrrp/instance.ts) talks only to these; src/net/* implements them on
 * real sockets and netlink. Keep them small: each method is one kernel operation.
 */

export type Family = 'ipv4' | 'ipv6';

/** A received VRRP packet with what the kernel told us about it. */
export interface ReceivedPacket {
  /** the VRRP message (IPv4: the IP header is stripped by the adapter; see ipHeader) */
  vrrp: Buffer;
  /** IPv4 only: the IPv4 header as received (TTL, total length, protocol) */
  ipHeader?: Buffer;
  src: string;
  /** destination address (224.0.0.18 / ff02::12 / unicast address) when known */
  dst?: string;
  /** IPv4 TTL or IPv6 hop limit, when the adapter can know it (IPv6 needs recvmsg cmsg) */
  ttl?: number;
  ifindex?: number;
  ifname: string;
}

export interface VrrpSocketOptions {
  family: Family;
  ifname: string;
  /** join 224.0.0.18 / ff02::12 on ifname (multicast mode) */
  multicast: boolean;
  /** IPv4 source address to put in packets (IP_HDRINCL); IPv6: link-local or unicast_src_ip */
  srcAddress?: string;
  /**
   * TTL / hop limit for sent packets (255 for multicast; unicast_ttl for unicast).
   * IPv6 only: -1 leaves the kernel default hop limit (keepalived without unicast_ttl).
   */
  ttl: number;
}

/** One raw VRRP (IP protocol 112) socket bound to one interface. */
export interface VrrpSocket {
  /** send a fully encoded VRRP message (the adapter adds the IP header when it builds one) */
  send(vrrp: Buffer, dst: string): void;
  onPacket(cb: (p: ReceivedPacket) => void): void;
  onError(cb: (err: Error) => void): void;
  close(): void;
}

export interface LinkInfo {
  index: number;
  name: string;
  up: boolean; // IFF_UP
  running: boolean; // IFF_RUNNING (carrier)
  mac: string; // "aa:bb:cc:dd:ee:ff"
  mtu: number;
  /** IFLA_INFO_KIND ("macvlan", "veth", "bridge"...) when the link has one */
  kind?: string;
  /** IFLA_LINK: the parent's index (macvlan/vlan/veth peer) when reported */
  parentIndex?: number;
}

export interface AddressSpec {
  family: Family;
  address: string;
  prefix: number;
  ifname: string;
  broadcast?: string;
  scope?: 'global' | 'site' | 'link' | 'host' | 'nowhere' | number;
  label?: string;
  /** IPv6: IFA_F_NODAD */
  nodad?: boolean;
  /** IFA_F_NOPREFIXROUTE */
  noprefixroute?: boolean;
  /** seconds; undefined = forever. keepalived gives IPv6 /128 VIPs 0 unless "preferred_lft forever" */
  preferredLft?: number;
}

export interface AddressInfo extends AddressSpec {
  ifindex: number;
}

/** iproute2 / keepalived route type names (include/uapi/linux/rtnetlink.h RTN_*) */
export type RouteTypeName = 'unicast' | 'local' | 'broadcast' | 'anycast' | 'multicast' | 'blackhole' | 'unreachable' | 'prohibit' | 'throw' | 'nat' | 'xresolve';

/** One hop of a multipath route (keepalived `nexthop via X dev Y weight W onlink`). */
export interface RouteNexthopSpec {
  via?: string;
  dev?: string;
  /** 1..256 (rtnh_hops = weight - 1) */
  weight?: number;
  onlink?: boolean;
  realms?: number;
}

/**
 * One route as keepalived's netlink_route() sends it (virtual_routes / static_routes).
 * Addresses are textual; the adapter resolves interface names to indexes at call time.
 */
export interface RouteSpec {
  family: Family;
  /** destination network address (0.0.0.0 / :: with prefix 0 = default) */
  dst: string;
  prefix: number;
  /** RTA_SRC: source-specific routing, IPv6 only (keepalived/iproute2 "from") */
  from?: string;
  fromPrefix?: number;
  /** RTA_PREFSRC (keepalived/iproute2 "src") */
  src?: string;
  /** RTA_GATEWAY */
  via?: string;
  /** RTA_OIF */
  dev?: string;
  /** 254 = main; > 255 goes in RTA_TABLE */
  table: number;
  /** RTA_PRIORITY */
  metric?: number;
  scope?: number;
  /** rtm_protocol; keepalived default RTPROT_KEEPALIVED (18), the mark its route monitor looks for */
  protocol?: number;
  /** undefined = unicast (and on delete: any type, as keepalived only sends a type it was given) */
  type?: RouteTypeName | number;
  tos?: number;
  /** RTNH_F_ONLINK */
  onlink?: boolean;
  /** RTA_FLOW */
  realms?: number;
  /** RTA_EXPIRES (IPv6), seconds */
  expires?: number;
  /** RTA_PREF (IPv6 router preference: 0 medium, 1 high, 3 low) */
  pref?: number;
  /** RTA_TTL_PROPAGATE */
  ttlPropagate?: boolean;
  /** RTA_METRICS; `lock` is the RTAX_LOCK bit mask (1 << RTAX_*) */
  metrics?: {
    mtu?: number;
    window?: number;
    rtt?: number;
    rttvar?: number;
    ssthresh?: number;
    cwnd?: number;
    advmss?: number;
    reordering?: number;
    hoplimit?: number;
    initcwnd?: number;
    features?: number;
    rtoMin?: number;
    initrwnd?: number;
    quickack?: number;
    congctl?: string;
    fastopenNoCookie?: number;
    lock?: number;
  };
  /** RTA_MULTIPATH */
  nexthops?: RouteNexthopSpec[];
  /** ip route add (NLM_F_EXCL) / append (NLM_F_APPEND) / prepend (neither): keepalived's default is prepend */
  mode?: 'add' | 'append' | 'prepend';
  /** options in the configuration this adapter cannot express (encap, vrf…): the adapter refuses the route */
  unsupported?: string[];
  /** keepalived's format_iproute() text, for logs, the journal and /json (not sent to the kernel) */
  text?: string;
  /** keepalived no_track: an external deletion is ignored (not sent to the kernel) */
  noTrack?: boolean;
}

/** One policy routing rule as keepalived's netlink_rule() sends it (virtual_rules / static_rules). */
export interface RuleSpec {
  family: Family;
  from?: string;
  fromPrefix?: number;
  to?: string;
  toPrefix?: number;
  /** FIB_RULE_INVERT ("not") */
  not?: boolean;
  priority?: number;
  action: 'table' | 'goto' | 'nop' | 'blackhole' | 'unreachable' | 'prohibit';
  table?: number;
  goto?: number;
  tos?: number;
  fwmark?: number;
  fwmask?: number;
  realms?: number;
  suppressPrefixLength?: number;
  suppressIfgroup?: number;
  /** FRA_IFNAME (keepalived "dev"/"iif") */
  iif?: string;
  oif?: string;
  /** FRA_TUN_ID, decimal text (u64) */
  tunnelId?: string;
  uidRange?: [number, number];
  l3mdev?: boolean;
  /** FRA_PROTOCOL; keepalived sets RTPROT_KEEPALIVED (18) on tracked rules */
  protocol?: number;
  ipProto?: number;
  sport?: [number, number];
  dport?: [number, number];
  /** keepalived's format_iprule() text (not sent to the kernel) */
  text?: string;
  noTrack?: boolean;
}

/** A route as the kernel reports it (RTM_NEWROUTE / RTM_DELROUTE). */
export interface RouteInfo {
  family: Family;
  dst: string;
  prefix: number;
  table: number;
  /** RTA_PRIORITY (absent = 0) */
  metric: number;
  tos: number;
  protocol: number;
  type: number;
  scope: number;
  oif?: number;
  ifname?: string;
  via?: string;
}

/** A rule as the kernel reports it (RTM_NEWRULE / RTM_DELRULE). */
export interface RuleInfo {
  family: Family;
  priority: number;
  /** FR_ACT_*: 1 table, 2 goto, 3 nop, 6 blackhole, 7 unreachable, 8 prohibit */
  action: number;
  table: number;
  goto?: number;
  from?: string;
  fromPrefix: number;
  to?: string;
  toPrefix: number;
  not: boolean;
  tos: number;
  fwmark?: number;
  fwmask?: number;
  iif?: string;
  oif?: string;
  protocol?: number;
}

export type NetlinkEvent =
  | { kind: 'link'; op: 'new' | 'del'; link: LinkInfo }
  | { kind: 'addr'; op: 'new' | 'del'; addr: AddressInfo }
  /** only after monitorRoutes() asked for the family */
  | { kind: 'route'; op: 'new' | 'del'; route: RouteInfo }
  | { kind: 'rule'; op: 'new' | 'del'; rule: RuleInfo };

/** rtnetlink operations (the `netlink` npm package behind this seam). */
export interface Netlink {
  getLinks(): Promise<LinkInfo[]>;
  getAddresses(): Promise<AddressInfo[]>;
  /** resolves; rejects with an Error whose message carries the errno name (EEXIST, ENODEV…) */
  addAddress(a: AddressSpec): Promise<void>;
  delAddress(a: AddressSpec): Promise<void>;
  /** macvlan for use_vmac: name, parent, MAC 00:00:5e:00:01:VRID (v4) / 00:00:5e:00:02:VRID (v6) */
  addMacvlan(name: string, parent: string, mac: string, mode?: 'private' | 'bridge'): Promise<void>;
  delLink(name: string): Promise<void>;
  setLinkUp(name: string, up: boolean): Promise<void>;
  /** link and address events (RTNLGRP_LINK, IPV4_IFADDR, IPV6_IFADDR) */
  onEvent(cb: (e: NetlinkEvent) => void): void;
  /** socket-level failures, e.g. ENOBUFS on the event socket (events lost: re-read links/addresses) */
  onError?(cb: (err: Error) => void): void;
  /**
   * Routes and rules (virtual_routes/virtual_rules, static_routes/static_rules). Optional so
   * that adapters without them (test fakes) still fit; callers report their absence.
   * addRoute `replace`: NLM_F_CREATE|NLM_F_REPLACE (keepalived's reload of a kept route).
   */
  addRoute?(r: RouteSpec, opts?: { replace?: boolean }): Promise<void>;
  delRoute?(r: RouteSpec): Promise<void>;
  addRule?(r: RuleSpec): Promise<void>;
  delRule?(r: RuleSpec): Promise<void>;
  /**
   * Also deliver route / rule events of these families (keepalived set_extra_netlink_monitoring:
   * RTNLGRP_IPV4_ROUTE… only when a tracked route or rule needs them). Adds, never drops.
   */
  monitorRoutes?(groups: { ipv4Routes?: boolean; ipv6Routes?: boolean; ipv4Rules?: boolean; ipv6Rules?: boolean }): void;
  /** IPv6 VMAC: IN6_ADDR_GEN_MODE_NONE before link up, so no link-local is derived from the VRRP MAC */
  setIpv6AddrGenMode?(name: string, mode: 'eui64' | 'none' | 'stable_privacy' | 'random'): Promise<void>;
  close(): void;
}

/** Gratuitous ARP (IPv4) and unsolicited neighbour advertisement (IPv6) sender. */
export interface Announcer {
  /** send one gratuitous ARP for each address from ifname (optionally forging srcMac, e.g. the VMAC) */
  garp(ifname: string, addresses: string[], srcMac?: string): Promise<number>;
  /** send one unsolicited NA (to ff02::1, O flag per keepalived) for each address */
  unsolicitedNa(ifname: string, addresses: string[], srcMac?: string): Promise<number>;
  close(): void;
}
