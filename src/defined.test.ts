import { describe, expect, it } from 'vitest';
import { compact, withoutUndefined } from './defined.js';

describe('withoutUndefined', () => {
  it('drops undefined members and keeps every other value, falsy ones included', () => {
    const result = withoutUndefined({ a: 1, b: undefined, c: 0, d: null, e: '', f: false });
    expect(result).toEqual({ a: 1, c: 0, d: null, e: '', f: false });
    expect(Object.keys(result)).toEqual(['a', 'c', 'd', 'e', 'f']);
  });

  it('does not change the object it was given', () => {
    const given = { a: 1, b: undefined };
    withoutUndefined(given);
    expect(Object.keys(given)).toEqual(['a', 'b']);
  });
});

describe('compact', () => {
  it('is undefined when nothing is left', () => {
    expect(compact({ a: undefined, b: undefined })).toBeUndefined();
    expect(compact({})).toBeUndefined();
  });

  it('keeps what is present', () => {
    expect(compact({ a: undefined, b: 0 })).toEqual({ b: 0 });
  });
});
