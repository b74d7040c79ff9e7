import { isIP } from 'node:net';

/** An address reduced to bytes, so that every spelling of one address compares equal. */
export interface ParsedIp {
  readonly family: 4 | 6;
  /** 4 bytes for IPv4 (including IPv4-mapped IPv6), 16 for IPv6. */
  readonly bytes: readonly number[];
  /** IPv6 zone id (`fe80::1%eth0`), or ''. */
  readonly zone: string;
}

/**
 * Parses an IPv4 or IPv6 address. An IPv4-mapped IPv6 address (`::ffff:10.1.2.3`, `::ffff:a01:203`) is the IPv4
 * address it maps (RFC 4291 §2.5.5.2): a dual-stack server reports IPv4 clients that way. The deprecated
 * IPv4-compatible form (`::10.1.2.3`, RFC 4291 §2.5.5.1) is left as IPv6. Returns undefined for anything else.
 *
 * @example
 * parseIp('::ffff:10.1.2.3'); // { family: 4, bytes: [10, 1, 2, 3], zone: '' }
 * parseIp('2001:DB8::1');     // { family: 6, bytes: [0x20, 0x01, 0x0d, 0xb8, 0, …, 1], zone: '' }
 */
export function parseIp(text: unknown): ParsedIp | undefined {
  if (typeof text !== 'string' || text.length > 100) return undefined;
  const family = isIP(text);
  if (family === 4) return { family: 4, bytes: text.split('.').map(Number), zone: '' };
  if (family !== 6) return undefined;
  const percent = text.indexOf('%');
  const zone = percent === -1 ? '' : text.slice(percent + 1);
  const bytes = ipv6Bytes(percent === -1 ? text : text.slice(0, percent));
  if (bytes === undefined) return undefined;
  const mapped = bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
  if (mapped) return { family: 4, bytes: bytes.slice(12), zone };
  return { family: 6, bytes, zone };
}

function ipv6Bytes(text: string): number[] | undefined {
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const groups = (part: string | undefined): number[] | undefined => {
    if (part === undefined || part === '') return [];
    const out: number[] = [];
    for (const group of part.split(':')) {
      if (group.includes('.')) {
        const v4 = group.split('.').map(Number);
        if (isIP(group) !== 4) return undefined;
        out.push(((v4[0] as number) << 8) | (v4[1] as number), ((v4[2] as number) << 8) | (v4[3] as number));
      } else if (/^[0-9A-Fa-f]{1,4}$/.test(group)) {
        out.push(parseInt(group, 16));
      } else {
        return undefined;
      }
    }
    return out;
  };
  const head = groups(halves[0]);
  const tail = groups(halves[1]);
  if (head === undefined || tail === undefined) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const words = [...head, ...Array<number>(halves.length === 1 ? 0 : missing).fill(0), ...tail];
  return words.flatMap((w) => [w >> 8, w & 0xff]);
}

/**
 * The canonical text of an address (RFC 5952 §4 for IPv6; dotted quad for IPv4 and IPv4-mapped), for messages.
 *
 * @example
 * canonicalIp('2001:0DB8:0:0:0:0:0:1'); // '2001:db8::1'
 * canonicalIp('::ffff:a01:203');        // '10.1.2.3'
 */
export function canonicalIp(text: string): string | undefined {
  const ip = parseIp(text);
  if (ip === undefined) return undefined;
  if (ip.family === 4) return ip.bytes.join('.') + (ip.zone === '' ? '' : `%${ip.zone}`);
  const words = Array.from(
    { length: 8 },
    (_, i) => ((ip.bytes[2 * i] as number) << 8) | (ip.bytes[2 * i + 1] as number),
  );
  // RFC 5952 §4.2.2-4.2.3: '::' replaces the longest run of two or more zero words, the first one on a tie.
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8;) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = words.map((w) => w.toString(16));
  const text6 =
    bestStart === -1
      ? hex.join(':')
      : `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
  return text6 + (ip.zone === '' ? '' : `%${ip.zone}`);
}

/**
 * True when both texts are the same address: compared as bytes, so `::ffff:10.1.2.3` equals `10.1.2.3` and
 * `2001:db8::1` equals `2001:0DB8:0:0:0:0:0:1`. Unparseable input is never equal to anything.
 *
 * @example
 * sameAddress('::ffff:10.1.2.3', '10.1.2.3'); // true
 */
export function sameAddress(a: string, b: string): boolean {
  const x = parseIp(a);
  const y = parseIp(b);
  if (x === undefined || y === undefined) return false;
  return x.family === y.family && x.zone === y.zone && x.bytes.every((byte, i) => byte === y.bytes[i]);
}

/**
 * True when both addresses are in one /24 (IPv4) or one /64 (IPv6) network, decided on the parsed bytes: a
 * string prefix would put `10.1.2.3` and `10.1.23.4` together.
 *
 * @example
 * sameNetwork('10.1.2.3', '10.1.2.250'); // true  (10.1.2.0/24)
 * sameNetwork('10.1.2.3', '10.1.23.4');  // false
 * sameNetwork('2001:db8:0:1::1', '2001:db8:0:1:ffff::9'); // true (2001:db8:0:1::/64)
 */
export function sameNetwork(a: string, b: string): boolean {
  const x = parseIp(a);
  const y = parseIp(b);
  if (x === undefined || y === undefined || x.family !== y.family || x.zone !== y.zone) return false;
  const prefixBytes = x.family === 4 ? 3 : 8;
  for (let i = 0; i < prefixBytes; i++) if (x.bytes[i] !== y.bytes[i]) return false;
  return true;
}
