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

export type NetlinkEvent =
  | { kind: 'link'; op: 'new' | 'del'; link: LinkInfo }
  | { kind: 'addr'; op: 'new' | 'del'; addr: AddressInfo };

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
