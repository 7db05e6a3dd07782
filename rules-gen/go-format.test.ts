import { describe, expect, it } from 'vitest';
import { goG4, goPercent, goValue } from './go-format.js';

describe('Go number formatting of alert templates', () => {
  it('prints $value like Go %v', () => {
    expect(goValue(95)).toBe('95');
    expect(goValue(0.05)).toBe('0.05');
    expect(goValue(123456)).toBe('123456');
    expect(goValue(1_000_000)).toBe('1e+06');
    expect(goValue(1_234_567.5)).toBe('1.2345675e+06');
    expect(goValue(0.00001)).toBe('1e-05');
    expect(goValue(0.0001)).toBe('0.0001');
    expect(goValue(Number.NaN)).toBe('NaN');
    expect(goValue(-Infinity)).toBe('-Inf');
  });

  it('prints humanizePercentage like Go %.4g%%', () => {
    expect(goPercent(0.05)).toBe('5%');
    expect(goPercent(0.25)).toBe('25%');
    expect(goPercent(0.0625)).toBe('6.25%');
    expect(goPercent(1 / 3)).toBe('33.33%');
    expect(goPercent(1)).toBe('100%');
    expect(goPercent(123.456)).toBe('1.235e+04%');
    expect(goG4(0.000012345)).toBe('1.234e-05');
  });
});
