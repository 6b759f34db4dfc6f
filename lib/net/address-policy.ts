import { BlockList, isIP } from 'node:net';

/**
 * Which addresses outbound requests (webhooks, URL imports) may reach. Every range of IANA's
 * special-purpose registries that is not globally reachable is refused — private, loopback,
 * link-local (cloud metadata lives there), CGNAT, multicast, documentation, benchmarking and
 * reserved — and so are the IPv6 ranges that carry an IPv4 address inside (IPv4-compatible,
 * NAT64, 6to4, Teredo), since a relay or translator would take the request to that IPv4 address
 * unchecked. IPv4-mapped (`::ffff:a.b.c.d`) and IPv4-translated (`::ffff:0:a.b.c.d`) addresses
 * are the IPv4 address itself and are judged as that. Operators may allow ranges explicitly (e.g.
 * loopback for local development).
 */
const DENIED_V4: [string, number][] = [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24], // 6to4 relay anycast (deprecated)
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4], // reserved, and 255.255.255.255
];
const DENIED_V6: [string, number][] = [
  ['::', 96], // unspecified, loopback and IPv4-compatible (deprecated)
  ['::1', 128],
  ['64:ff9b::', 96], // NAT64, well-known prefix
  ['64:ff9b:1::', 48], // NAT64, local use
  ['100::', 64], // discard
  ['2001::', 23], // IETF protocol assignments: Teredo, benchmarking, ORCHID, ...
  ['2001:db8::', 32], // documentation
  ['2002::', 16], // 6to4
  ['3fff::', 20], // documentation
  ['5f00::', 16], // SRv6 SIDs
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['fec0::', 10], // site-local (deprecated)
  ['ff00::', 8], // multicast
];

/** What a refusal says: never the address, which for a name would reveal what it resolves to. */
export const REFUSED_ADDRESS = 'the address is private, loopback, link-local or reserved';

export interface AddressPolicy {
  /** Why the address is refused, or null when it may be reached. */
  refuse(address: string): string | null;
}

/** `allow`: CIDRs (e.g. "127.0.0.0/8", "::1/128", "10.1.2.0/24") exempt from the deny list. */
export function createAddressPolicy(allow: string[] = []): AddressPolicy {
  const denied = new BlockList();
  for (const [net, prefix] of DENIED_V4) denied.addSubnet(net, prefix, 'ipv4');
  for (const [net, prefix] of DENIED_V6) denied.addSubnet(net, prefix, 'ipv6');
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
      if (!type) return 'not an IP address';
      if (allowed.check(address, type)) return null;
      return denied.check(address, type) ? REFUSED_ADDRESS : null;
    },
  };
}

/**
 * An IPv6 address that is an IPv4 address in disguise, as that IPv4 address: IPv4-mapped
 * (`::ffff:127.0.0.1`, `::ffff:7f00:1`, `0:0:0:0:0:ffff:7f00:1`) and IPv4-translated
 * (`::ffff:0:7f00:1`). Anything else (with a zone id dropped) is returned as it is.
 */
export function unmapIpv4(address: string): string {
  const bare = address.split('%')[0]!;
  if (isIP(bare) !== 6) return address;
  // The URL parser writes every spelling of an IPv6 address in one canonical form.
  const canonical = new URL(`http://[${bare}]/`).hostname.slice(1, -1);
  const embedded = /^::ffff:(?:0:)?([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(canonical);
  if (!embedded) return canonical;
  const hi = parseInt(embedded[1]!, 16);
  const lo = parseInt(embedded[2]!, 16);
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}
