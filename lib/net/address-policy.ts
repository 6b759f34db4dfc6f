import { BlockList, isIP } from 'node:net';

/**
 * Which addresses outbound requests (webhooks, URL imports) may reach. Private, loopback,
 * link-local (cloud metadata lives there), CGNAT, multicast and reserved ranges are refused
 * unless an operator allows them (e.g. loopback for local development).
 */
const DENIED: [string, number, 'ipv4' | 'ipv6'][] = [
  ['0.0.0.0', 8, 'ipv4'],
  ['10.0.0.0', 8, 'ipv4'],
  ['100.64.0.0', 10, 'ipv4'],
  ['127.0.0.0', 8, 'ipv4'],
  ['169.254.0.0', 16, 'ipv4'],
  ['172.16.0.0', 12, 'ipv4'],
  ['192.0.0.0', 24, 'ipv4'],
  ['192.0.2.0', 24, 'ipv4'],
  ['192.168.0.0', 16, 'ipv4'],
  ['198.18.0.0', 15, 'ipv4'],
  ['198.51.100.0', 24, 'ipv4'],
  ['203.0.113.0', 24, 'ipv4'],
  ['224.0.0.0', 4, 'ipv4'],
  ['240.0.0.0', 4, 'ipv4'],
  ['::', 128, 'ipv6'],
  ['::1', 128, 'ipv6'],
  ['64:ff9b::', 96, 'ipv6'],
  ['100::', 64, 'ipv6'],
  ['2001:db8::', 32, 'ipv6'],
  ['fc00::', 7, 'ipv6'],
  ['fe80::', 10, 'ipv6'],
  ['ff00::', 8, 'ipv6'],
];

export interface AddressPolicy {
  /** Why the address is refused, or null when it may be reached. */
  refuse(address: string): string | null;
}

/** `allow`: CIDRs (e.g. "127.0.0.0/8", "::1/128", "10.1.2.0/24") exempt from the deny list. */
export function createAddressPolicy(allow: string[] = []): AddressPolicy {
  const denied = new BlockList();
  for (const [net, prefix, type] of DENIED) denied.addSubnet(net, prefix, type);
  const allowed = new BlockList();
  for (const cidr of allow) {
    const [net, prefix] = cidr.split('/');
    const type = isIP(net ?? '') === 6 ? 'ipv6' : 'ipv4';
    allowed.addSubnet(net!, Number(prefix ?? (type === 'ipv6' ? 128 : 32)), type);
  }
  return {
    refuse(raw) {
      const address = unmapIpv4(raw.replace(/^\[|\]$/g, ''));
      const type = isIP(address) === 6 ? 'ipv6' : isIP(address) === 4 ? 'ipv4' : null;
      if (!type) return `not an IP address: ${raw}`;
      if (allowed.check(address, type)) return null;
      return denied.check(address, type) ? `address ${address} is private, loopback, link-local or reserved` : null;
    },
  };
}

/** ::ffff:127.0.0.1 (and its hex form ::ffff:7f00:1) is 127.0.0.1. */
export function unmapIpv4(address: string): string {
  const lower = address.toLowerCase();
  const dotted = /^(?:0{0,4}:){0,5}ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower) ?? /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (dotted) return dotted[1]!;
  const hex = /^(?:0{0,4}:){0,5}ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(lower) ?? /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(lower);
  if (hex) {
    const hi = parseInt(hex[1]!, 16);
    const lo = parseInt(hex[2]!, 16);
    return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  }
  return address;
}
