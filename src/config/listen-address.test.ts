import { describe, expect, it } from 'vitest';
import { parseListen } from '../http/listen.js';
import { DEFAULT_LISTEN, listenAddressWithDefault } from './listen-address.js';

describe('DEFAULT_LISTEN', () => {
  it('is one valid HOST:PORT per part, each on its own port', () => {
    const ports = Object.values(DEFAULT_LISTEN).map((address) => parseListen(address).port);
    expect(new Set(ports).size).toBe(ports.length);
    expect(parseListen(DEFAULT_LISTEN.exporter)).toEqual({ host: '0.0.0.0', port: 9445 });
  });
});

describe('listenAddressWithDefault', () => {
  it('defaults to its address and names it as the example of a bad value', () => {
    const field = listenAddressWithDefault(DEFAULT_LISTEN.router);
    expect(field.parse(undefined)).toBe('127.0.0.1:9460');
    expect(field.parse('[::1]:1')).toBe('[::1]:1');
    const bad = field.safeParse('router');
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]?.message).toBe('expected HOST:PORT, e.g. 127.0.0.1:9460');
  });
});
