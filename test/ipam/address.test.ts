import { describe, expect, it } from 'vitest';
import { formatAddress, parseAddress, parsePrefix, subtractIntervals } from '../../lib/ipam/address.js';

describe('parseAddress', () => {
  it.each([
    ['10.0.0.1', 4, 0x0a000001n],
    ['255.255.255.255', 4, 0xffffffffn],
    ['fd00::1', 6, 0xfd000000000000000000000000000001n],
    ['FD00:0000::0001', 6, 0xfd000000000000000000000000000001n],
  ])('accepts %s', (text, family, value) => {
    expect(parseAddress(text)).toEqual({ family, value });
  });

  it.each(['', '10.0.0', '10.0.0.256', '010.0.0.1', '10.0.0.1/24', 'fe80::1%eth0', 'fd00::/64', 'x'])(
    'rejects %j',
    (text) => {
      expect(parseAddress(text)).toBeUndefined();
    },
  );
});

describe('parsePrefix', () => {
  it('keeps host bits as written', () => {
    expect(parsePrefix('10.0.0.5/24')).toEqual({ family: 4, address: 0x0a000005n, length: 24 });
  });

  it.each(['10.0.0.0/33', 'fd00::/129', '10.0.0.0', '10.0.0.0/-1', '10.0.0.0/2x'])('rejects %j', (text) => {
    expect(parsePrefix(text)).toBeUndefined();
  });
});

describe('formatAddress', () => {
  it('writes IPv6 in RFC 5952 form', () => {
    expect(formatAddress(6, 0xfd000000000000000000000000000001n)).toBe('fd00::1');
  });
});

describe('subtractIntervals', () => {
  const whole = { first: 0n, last: 99n };

  it.each([
    { holes: [], expected: [[0n, 99n]] },
    { holes: [[10n, 19n]], expected: [[0n, 9n], [20n, 99n]] },
    { holes: [[0n, 99n]], expected: [] },
    { holes: [[50n, 200n], [0n, 5n]], expected: [[6n, 49n]] },
    { holes: [[10n, 30n], [20n, 40n]], expected: [[0n, 9n], [41n, 99n]] },
    { holes: [[200n, 300n]], expected: [[0n, 99n]] },
  ])('removes $holes', ({ holes, expected }) => {
    const result = subtractIntervals(whole, holes.map(([first, last]) => ({ first: first as bigint, last: last as bigint })));
    expect(result.map((piece) => [piece.first, piece.last])).toEqual(expected);
  });
});
