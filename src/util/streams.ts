/** Small helpers for Node streams shared by the HTTP servers. */
import type { Writable } from 'node:stream';

/**
 * Resolves when `stream` can take more data after a write returned false, or
 * when it closes (so a writer never waits on a client that went away).
 */
export function waitForDrain(stream: Writable): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      stream.off('drain', done);
      stream.off('close', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('close', done);
  });
}
