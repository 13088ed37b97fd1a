import { describe, expect, it } from 'vitest';
import { advertIntField, masterDownIntervalMs, minSkewTimeMs, normaliseAdvertInt, skewTimeMs } from '../../src/vrrp/timing';

describe('Skew_Time and Master_Down_Interval as keepalived 2.2.7 computes them', () => {
  // reference/keepalived-2.2.7/RESULTS.md §3 table (h2 priority 100, h1 priority 150)
  it('v2: (256−p)/256 s, independent of the advert interval (RFC 3768 §6.1)', () => {
    expect(skewTimeMs(2, 100, 1000)).toBe(609.375);
    expect(masterDownIntervalMs(2, 100, 1000)).toBe(3609.375);
    // keepalived integer µs: 106e6/256 = 414062.5 → 414062 µs
    expect(skewTimeMs(2, 150, 1000)).toBe(414.062);
    expect(masterDownIntervalMs(2, 150, 1000)).toBe(3414.062);
    // still seconds-based at a 3 s interval: only the 3 × interval part grows
    expect(skewTimeMs(2, 100, 3000)).toBe(609.375);
    expect(masterDownIntervalMs(2, 100, 3000)).toBe(9609.375);
    expect(skewTimeMs(2, 255, 1000)).toBe(3.906);
    expect(skewTimeMs(2, 1, 1000)).toBe(996.093);
  });

  it('v3: ((256−p) × Master_Adver_Interval)/256 in centiseconds (RFC 5798 §6.1)', () => {
    expect(skewTimeMs(3, 100, 100)).toBe(60.937);
    expect(masterDownIntervalMs(3, 100, 100)).toBe(360.937);
    expect(skewTimeMs(3, 150, 100)).toBe(41.406);
    expect(masterDownIntervalMs(3, 150, 100)).toBe(341.406);
    expect(masterDownIntervalMs(3, 100, 50)).toBe(180.468);
    expect(masterDownIntervalMs(3, 150, 50)).toBe(170.703);
    expect(masterDownIntervalMs(3, 100, 10)).toBe(36.093);
    expect(masterDownIntervalMs(3, 150, 10)).toBe(34.14);
    // at 1 s v2 and v3 agree up to keepalived's integer truncation
    expect(masterDownIntervalMs(3, 100, 1000)).toBe(3609.375);
  });

  it('down_timer_adverts replaces the 3', () => {
    expect(masterDownIntervalMs(2, 100, 1000, 1)).toBe(1609.375);
    expect(masterDownIntervalMs(3, 100, 100, 10)).toBe(1060.937);
  });

  it('minimum skew (VRRP_TIMER_SKEW_MIN) is the skew of priority 255', () => {
    expect(minSkewTimeMs(2, 1000)).toBe(skewTimeMs(2, 255, 1000));
    expect(minSkewTimeMs(3, 100)).toBe(skewTimeMs(3, 255, 100));
    expect(minSkewTimeMs(3, 100)).toBe(0.39);
  });
});

describe('advert_int normalisation (vrrp_parser.c)', () => {
  it('v2 rounds to whole seconds, minimum 1 (0.1 → 1 with a warning)', () => {
    expect(normaliseAdvertInt(2, 1)).toEqual({ ms: 1000 });
    expect(normaliseAdvertInt(2, 0.1).ms).toBe(1000);
    expect(normaliseAdvertInt(2, 0.1).warning).toMatch(/rounded/);
    expect(normaliseAdvertInt(2, 2.4).ms).toBe(2000);
    expect(normaliseAdvertInt(2, 255)).toEqual({ ms: 255_000 });
  });
  it('v3 rounds to centiseconds, max 40.95 s; below 0.01 s is ignored', () => {
    expect(normaliseAdvertInt(3, 0.01)).toEqual({ ms: 10 });
    expect(normaliseAdvertInt(3, 0.05)).toEqual({ ms: 50 });
    expect(normaliseAdvertInt(3, 0.123).ms).toBe(120);
    expect(normaliseAdvertInt(3, 60)).toMatchObject({ ms: 40_950 });
    expect(normaliseAdvertInt(3, 0.005)).toMatchObject({ ignored: true, ms: 1000 });
    expect(normaliseAdvertInt(3, 300)).toMatchObject({ ignored: true });
  });
  it('the advert field: v2 seconds, v3 centiseconds', () => {
    expect(advertIntField(2, 3000)).toBe(3);
    expect(advertIntField(3, 100)).toBe(10);
    expect(advertIntField(3, 40_950)).toBe(4095);
  });
});
