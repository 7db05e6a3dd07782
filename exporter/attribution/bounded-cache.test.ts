import { describe, expect, it } from 'vitest';
import { BoundedCache } from './bounded-cache.js';

describe('BoundedCache', () => {
  it('drops the least recently used entry past its size', () => {
    const cache = new BoundedCache<string, number>(2, 1_000, () => 0);
    cache.set('a', 1);
    cache.set('b', 2);
    expect(cache.get('a')).toBe(1); // a is now the most recent
    cache.set('c', 3);
    expect(cache.size).toBe(2);
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBe(1);
    expect(cache.get('c')).toBe(3);
  });

  it('forgets entries older than its age limit', () => {
    let now = 0;
    const cache = new BoundedCache<string, number>(10, 1_000, () => now);
    cache.set('a', 1);
    now = 1_000;
    expect(cache.get('a')).toBe(1);
    now = 1_001;
    expect(cache.get('a')).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('replaces a value set again', () => {
    const cache = new BoundedCache<string, number>(2, 1_000, () => 0);
    cache.set('a', 1);
    cache.set('a', 2);
    expect(cache.size).toBe(1);
    expect(cache.get('a')).toBe(2);
  });
});
