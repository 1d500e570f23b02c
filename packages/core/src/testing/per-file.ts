/**
 * The beforeAll/afterAll frame of an in-process test file, written once: `perFile(start)` starts
 * something before the file's first test and closes it after its last, and stands for it meanwhile.
 * Read it inside tests and hooks, never at the top level of the file (it is started by then).
 */
import { afterAll, beforeAll } from 'vitest';

/** Starts `start()` before the file's tests, closes it after them; the returned object stands for it. */
export function perFile<T extends object & { close(): unknown }>(start: () => Promise<T>): T {
  let started: T | undefined;
  beforeAll(async () => {
    started = await start();
  });
  afterAll(async () => {
    await started?.close();
  });
  const live = (): T => {
    if (!started) throw new Error('perFile: used before it started (read it inside a test or a hook)');
    return started;
  };
  // Methods are bound to the started object (a class's private fields do not see the proxy as `this`).
  return new Proxy({} as T, {
    get: (_, key) => {
      const target = live();
      const value = Reflect.get(target, key, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
