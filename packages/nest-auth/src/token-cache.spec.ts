import { TokenCache } from './token-cache';

describe('TokenCache', () => {
  let now = 1_000_000;
  const clock = () => now;

  beforeEach(() => {
    now = 1_000_000;
  });

  it('keeps a value until its ttl passes', () => {
    const cache = new TokenCache<string>(10, clock);
    cache.set('a', 'A', 1000);
    now += 999;
    expect(cache.get('a')).toBe('A');
    now += 1;
    expect(cache.get('a')).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('keeps nothing for a ttl of 0 or less, and drops what was there', () => {
    const cache = new TokenCache<string>(10, clock);
    cache.set('a', 'A', 1000);
    cache.set('a', 'B', 0);
    expect(cache.get('a')).toBeUndefined();
    cache.set('b', 'B', -5);
    expect(cache.size).toBe(0);
  });

  it('caches null values (inactive answers)', () => {
    const cache = new TokenCache<string | null>(10, clock);
    cache.set('a', null, 1000);
    expect(cache.get('a')).toBeNull();
  });

  it('evicts the least recently used entry beyond maxEntries', () => {
    const cache = new TokenCache<string>(2, clock);
    cache.set('a', 'A', 1000);
    cache.set('b', 'B', 1000);
    expect(cache.get('a')).toBe('A'); // a is now the most recently used
    cache.set('c', 'C', 1000);
    expect([cache.get('a'), cache.get('b'), cache.get('c')]).toEqual(['A', undefined, 'C']);
    expect(cache.size).toBe(2);
  });

  it('holds nothing with maxEntries 0', () => {
    const cache = new TokenCache<string>(0, clock);
    cache.set('a', 'A', 1000);
    expect(cache.get('a')).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('deletes and clears', () => {
    const cache = new TokenCache<string>(10, clock);
    cache.set('a', 'A', 1000);
    cache.set('b', 'B', 1000);
    cache.delete('a');
    expect(cache.get('a')).toBeUndefined();
    cache.clear();
    expect(cache.size).toBe(0);
  });
});
