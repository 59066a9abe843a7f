import { describe, expect, it } from 'vitest';
import { reconnectDelay } from '../../../lib/queue/redis-queue.js';

describe('Redis reconnection delay', () => {
  it('backs off exponentially up to 2 s, between half and all of the ceiling', () => {
    expect(reconnectDelay(0, () => 0)).toBe(25);
    expect(reconnectDelay(0, () => 1)).toBe(50);
    expect(reconnectDelay(3, () => 0.5)).toBe(300);
    expect(reconnectDelay(30, () => 0)).toBe(1000);
    expect(reconnectDelay(30, () => 1)).toBe(2000);
  });

  it('spreads a fleet out: 100 processes on their 6th attempt do not all wait the same', () => {
    const delays = new Set(Array.from({ length: 100 }, () => reconnectDelay(6)));
    expect(delays.size).toBeGreaterThan(50);
    for (const delay of delays) {
      expect(delay).toBeGreaterThanOrEqual(1000);
      expect(delay).toBeLessThanOrEqual(2000);
    }
  });
});
