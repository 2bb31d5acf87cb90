/**
 * The guard that keeps outgoing webhooks away from the hub's own network. A target's host name is resolved first,
 * every address it resolves to is checked, and the request then connects to the checked address, so a second DNS
 * answer cannot point the connection elsewhere. Loopback, private, link-local, shared, multicast and reserved
 * ranges are rejected unless WEBHOOK_ALLOWED_ADDRESSES names the address or a range holding it.
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import { BlockList, isIP, type LookupFunction } from 'node:net';

/** Ranges no webhook may reach unless allowed: addresses of this host, its networks, and ranges not routed publicly. */
const blockedRanges: ReadonlyArray<[string, number, 'ipv4' | 'ipv6']> = [
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
  ['64:ff9b:1::', 48, 'ipv6'],
  ['100::', 64, 'ipv6'],
  ['2001:db8::', 32, 'ipv6'],
  ['fc00::', 7, 'ipv6'],
  ['fe80::', 10, 'ipv6'],
  ['fec0::', 10, 'ipv6'],
  ['ff00::', 8, 'ipv6'],
];

const blocked = new BlockList();
for (const [network, prefix, type] of blockedRanges) blocked.addSubnet(network, prefix, type);

/** Returns the IPv4 address inside an IPv4-mapped (::ffff:a.b.c.d) or NAT64 (64:ff9b::a.b.c.d) IPv6 address. */
function embeddedIpv4(address: string): string | null {
  const match = /^(?:::ffff:|64:ff9b::)(?:0:)?([0-9a-f.:]+)$/i.exec(address);
  if (!match) return null;
  const tail = match[1]!;
  if (isIP(tail) === 4) return tail;
  const hex = /^([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(tail);
  if (!hex) return null;
  const high = parseInt(hex[1]!, 16);
  const low = parseInt(hex[2]!, 16);
  return [high >> 8, high & 255, low >> 8, low & 255].join('.');
}

/** Builds the allow-list of addresses and CIDR ranges that WEBHOOK_ALLOWED_ADDRESSES lists. */
export function allowListOf(entries: readonly string[]): BlockList {
  const list = new BlockList();
  for (const entry of entries) {
    const [address, bits] = entry.split('/');
    const type = isIP(address ?? '') === 6 ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(address!, type);
    else list.addSubnet(address!, Number(bits), type);
  }
  return list;
}

/** Returns true when the address lies in a range that webhooks may not reach and the allow-list does not name it. */
export function isBlockedAddress(address: string, allowed: BlockList): boolean {
  const version = isIP(address);
  if (version === 0) return true;
  const type = version === 6 ? 'ipv6' : 'ipv4';
  if (allowed.check(address, type)) return false;
  if (blocked.check(address, type)) return true;
  const inner = version === 6 ? embeddedIpv4(address) : null;
  if (inner !== null) return !allowed.check(inner, 'ipv4') && blocked.check(inner, 'ipv4');
  return false;
}

/** A host name whose addresses include a blocked one. */
export class BlockedAddressError extends Error {
  override readonly name = 'BlockedAddressError';
  constructor(
    readonly hostname: string,
    readonly address: string,
  ) {
    super(`${hostname} resolves to ${address}, a loopback, private, link-local or reserved address`);
  }
}

export interface CheckedAddress {
  address: string;
  family: 4 | 6;
}

/**
 * Resolves the host name and checks every address it has, then returns the first address to connect to. Throws
 * BlockedAddressError when any address is blocked, so a name with one public and one private address is rejected.
 */
export async function resolveChecked(hostname: string, allowed: BlockList): Promise<CheckedAddress> {
  const bare = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
  const answers = isIP(bare) !== 0 ? [{ address: bare, family: isIP(bare) }] : await dnsLookup(bare, { all: true, verbatim: true });
  if (answers.length === 0) throw Object.assign(new Error(`${hostname} resolved to no address`), { code: 'ENOTFOUND' });
  for (const answer of answers) {
    if (isBlockedAddress(answer.address, allowed)) throw new BlockedAddressError(hostname, answer.address);
  }
  const first = answers[0]!;
  return { address: first.address, family: first.family === 6 ? 6 : 4 };
}

/** Returns a `lookup` for http.request that hands the socket the checked address and nothing else. */
export function pinnedLookup(checked: CheckedAddress): LookupFunction {
  return (_hostname, options, callback) => {
    if ((options as { all?: boolean }).all) {
      (callback as unknown as (error: null, addresses: CheckedAddress[]) => void)(null, [checked]);
      return;
    }
    callback(null, checked.address, checked.family);
  };
}
