import { type FSWatcher, watch } from 'node:fs';
import type { Logger } from '@gatehouse/core';
import { isSkipped } from './scan.ts';

interface FolderWatchOptions {
  /** The real path of the folder to watch. */
  root: string;
  log: Logger;
  /** Applies the folder's changes to the index. */
  rescan: () => Promise<void>;
  /** Safety-net rescan interval (file systems and watchers can miss events). */
  rescanEveryMs?: number | undefined;
  debounceMs?: number | undefined;
}

/**
 * Keeps the index following the folder: a recursive watcher (with a periodic
 * rescan as a safety net, or as the only source when watching fails) asks for
 * debounced rescans, which run one at a time.
 */
export class FolderWatcher {
  private watcher: FSWatcher | undefined;
  private poller: NodeJS.Timeout | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private scanning: Promise<void> | undefined;
  private rescanQueued = false;
  private closed = false;
  private readonly options: FolderWatchOptions;

  constructor(options: FolderWatchOptions) {
    this.options = options;
  }

  start(): void {
    const { log } = this.options;
    const every = this.options.rescanEveryMs ?? 30_000;
    try {
      this.watcher = watch(this.options.root, { recursive: true, persistent: false }, (_event, name) => {
        if (typeof name === 'string' && name.split(/[\\/]/).some(isSkipped)) return;
        this.scheduleRescan();
      });
      this.watcher.on('error', (error) => {
        log.warn({ err: error }, 'docs folder watcher failed; falling back to periodic rescans');
        this.watcher?.close();
        this.watcher = undefined;
      });
    } catch (error) {
      log.warn({ err: error }, 'cannot watch the docs folder; falling back to periodic rescans');
    }
    this.poller = setInterval(() => this.scheduleRescan(), this.watcher ? every : Math.min(every, 5_000));
    this.poller.unref();
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.debounce);
    clearInterval(this.poller);
    this.watcher?.close();
  }

  private scheduleRescan(): void {
    if (this.closed) return;
    clearTimeout(this.debounce);
    this.debounce = setTimeout(() => {
      void this.rescanSerial();
    }, this.options.debounceMs ?? 150);
    this.debounce.unref();
  }

  /** Rescans are serial; a change arriving during one queues exactly one more. */
  private async rescanSerial(): Promise<void> {
    if (this.scanning) {
      this.rescanQueued = true;
      return;
    }
    this.scanning = this.options
      .rescan()
      .catch((error) => this.options.log.warn({ err: error }, 'docs rescan failed'))
      .finally(() => {
        this.scanning = undefined;
        if (this.rescanQueued && !this.closed) {
          this.rescanQueued = false;
          void this.rescanSerial();
        }
      });
    await this.scanning;
  }
}
