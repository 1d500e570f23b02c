import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { afterEach, describe, expect, it } from 'vitest';
import { YoungGenerationCap, type YoungGenerationHeap } from './memory.ts';

const MB = 1024 * 1024;

/** A heap whose young generation is whatever the test says, recording the flags it was given. */
function fakeHeap(start: number): YoungGenerationHeap & { size: number; flags: string[] } {
  return {
    size: start,
    flags: [],
    youngBytes() {
      return this.size;
    },
    setFlags(flags) {
      this.flags.push(flags);
    },
  };
}

describe('YoungGenerationCap', () => {
  it('stops growth once the young generation reaches the cap, and lets it grow again after it shrank', () => {
    const heap = fakeHeap(4 * MB);
    const cap = new YoungGenerationCap(32 * MB, heap);
    cap.check();
    expect(heap.flags).toEqual([]); // under the cap: V8's own growth, no flag touched
    heap.size = 32 * MB;
    cap.check();
    cap.check();
    expect(heap.flags).toEqual(['--semi-space-growth-factor=1']); // once, not at every look
    heap.size = 1 * MB; // a memory-reducing collection shrank it
    cap.check();
    expect(heap.flags).toEqual(['--semi-space-growth-factor=1', '--semi-space-growth-factor=2']);
  });

  it('gives up quietly when V8 refuses the flag (the call path never sees an error)', () => {
    const heap = fakeHeap(64 * MB);
    let tries = 0;
    heap.setFlags = () => {
      tries += 1;
      throw new Error('flags are frozen');
    };
    const cap = new YoungGenerationCap(32 * MB, heap);
    expect(() => cap.check()).not.toThrow();
    cap.check();
    expect(tries).toBe(1);
  });

  describe('on the real V8 heap', () => {
    afterEach(() => setFlagsFromString('--semi-space-growth-factor=2'));

    it('keeps new_space at the cap under an allocation burst that would grow it further', () => {
      const young = () => getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0;
      // The cap is where the young generation stands now (the test runner may have grown it already).
      const capBytes = Math.max(young(), 2 * MB);
      const cap = new YoungGenerationCap(capBytes);
      // Objects that survive a scavenge or two: what makes V8 grow the young generation.
      const kept: unknown[][] = [];
      let largest = 0;
      for (let round = 0; round < 60; round++) {
        const batch: unknown[] = [];
        // A look after every ~150 KB allocated, as the server looks every few messages.
        for (let part = 0; part < 10; part++) {
          for (let i = 0; i < 2_000; i++) batch.push({ i, s: `x${i}` });
          cap.check();
          largest = Math.max(largest, young());
        }
        kept.push(batch);
        if (kept.length > 3) kept.shift();
      }
      // One doubling may land between two looks; never more.
      expect(largest).toBeLessThanOrEqual(2 * capBytes);
      expect(young()).toBeLessThanOrEqual(2 * capBytes);
    });
  });
});
