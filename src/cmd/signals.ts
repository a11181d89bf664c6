/**
 * How the long-running commands (server, agent, simulate) end: on SIGTERM or
 * SIGINT they stop what they started, then exit 0, or 1 when stopping failed.
 */
import type { Logger } from '../util/log.js';

/**
 * Stops on the first SIGTERM/SIGINT: logs "shutting down" (with `fields()`
 * when given), awaits `stop`, and exits the process. A second signal while
 * stopping is ignored rather than starting a second stop.
 */
export function stopOnSignals(stop: () => Promise<void>, log: Logger, fields?: () => Record<string, unknown>): void {
  let shuttingDown = false;
  const shutdown = (signal: string) => {
    if (shuttingDown) return;
    shuttingDown = true;
    log.info('shutting down', { signal, ...fields?.() });
    stop().then(
      () => process.exit(0),
      (error: unknown) => {
        log.error('shutdown failed', { error });
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}
