/**
 * What `pnpm demo` hands a server's own demo steps (`servers/<name>/demo.ts`, default export
 * `async (kit: DemoKit) => void`). A server without that file gets the generic steps: list the
 * tools, call its smoke call (test/e2e.json) or its first read tool that needs no arguments.
 */
import type { Client } from '@modelcontextprotocol/client';

export interface DemoKit {
  /** The server's folder name (`platform-ops`). */
  readonly name: string;
  /** Its env prefix (`PLATFORM_OPS`), from its definition. */
  readonly prefix: string;
  /** Path of the built binary. */
  readonly bin: string;
  /** The audit file `env()` points the server at. */
  readonly auditFile: string;
  /** A working server's environment: the sandbox and this server's token, its audit file, log level
   * `warn`, test/e2e.json's variables, then `extra`. */
  env(extra?: Record<string, string>): Record<string, string>;
  /** A v2 client over stdio to the binary; its human approves (`approve`, default) or declines. */
  connect(env: Record<string, string>, options?: { approve?: boolean }): Promise<Client>;
  /** Prints a step heading. */
  step(title: string): void;
  /** Prints a value (strings as they are, anything else as JSON). */
  show(value: unknown): void;
  /** A tool result in one line or a few: `tool error: ` first when it is one (never `ERROR`, which a
   * newcomer reads as the demo failing), text cut at 600 characters. */
  summarise(result: { isError?: unknown; content?: unknown }): string;
  /** Runs the binary as a command (`verify-audit <file>`) and returns what it printed. */
  run(args: string[]): Promise<string>;
}

/** The default export of `servers/<name>/demo.ts`. */
export type DemoSteps = (kit: DemoKit) => Promise<void>;
