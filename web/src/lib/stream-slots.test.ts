import { describe, expect, test } from 'vitest';
import { createSlotPool } from './stream-slots';

describe('stream slot pool', () => {
  test('grants up to its size at once and the rest in order as slots come back', () => {
    const pool = createSlotPool(2);
    const granted: string[] = [];
    const release = ['a', 'b', 'c', 'd'].map((n) => pool.acquire(() => granted.push(n)));
    expect(granted).toEqual(['a', 'b']);
    expect(pool.waiting).toBe(2);
    release[0]!();
    expect(granted).toEqual(['a', 'b', 'c']);
    release[1]!();
    release[1]!(); // giving a slot back twice frees it once
    expect(granted).toEqual(['a', 'b', 'c', 'd']);
    expect(pool.inUse).toBe(2);
  });

  test('leaving the line before being served takes no slot', () => {
    const pool = createSlotPool(1);
    const granted: string[] = [];
    const first = pool.acquire(() => granted.push('first'));
    const leaver = pool.acquire(() => granted.push('leaver'));
    pool.acquire(() => granted.push('last'));
    leaver();
    first();
    expect(granted).toEqual(['first', 'last']);
    expect(pool.inUse).toBe(1);
    expect(pool.waiting).toBe(0);
  });
});
