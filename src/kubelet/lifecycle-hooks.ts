/**
 * Container lifecycle hooks (postStart, preStop) as the kubelet runs them
 * (pkg/kubelet/lifecycle/handlers.go): exec through CRI ExecSync, httpGet to
 * the pod's address, sleep. A failure returns the kubelet's message, which the
 * caller records as a FailedPostStartHook / FailedPreStopHook event.
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Container, LifecycleHandler, Pod } from 'kubernetes-types/core/v1.js';
import type { CriClient } from './cri/client.js';
import { formatPod } from './pod-status.js';

/** Go's %v of a []string: "[a b c]". */
const goList = (items: string[]): string => `[${items.join(' ')}]`;

/** Resolves a port (number or the name of a container port). */
export function resolvePort(port: number | string | undefined, container: Container): number | undefined {
  if (typeof port === 'number') return port;
  if (port === undefined) return undefined;
  if (/^\d+$/.test(port)) return Number(port);
  return container.ports?.find((p) => p.name === port)?.containerPort;
}

/** An HTTP(S) GET with a deadline; resolves with the status code. */
function httpGet(url: URL, headers: Record<string, string>, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(url, { method: 'GET', headers: { 'User-Agent': 'kube-lifecycle/1.32', ...headers }, timeout: timeoutMs, rejectUnauthorized: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`Get "${url.href}": context deadline exceeded`)));
    req.on('error', reject);
    req.end();
  });
}

/**
 * Runs one hook of a container; resolves with undefined on success or the
 * message to report on failure. `timeoutSeconds` bounds exec and HTTP hooks.
 */
export async function runHook(
  cri: CriClient,
  pod: Pod,
  container: Container,
  containerId: string,
  podIP: string,
  handler: LifecycleHandler,
  timeoutSeconds: number,
): Promise<string | undefined> {
  const podName = formatPod(pod as Parameters<typeof formatPod>[0]);
  if (handler.exec) {
    const command = handler.exec.command ?? [];
    try {
      const result = await cri.execSync(containerId, command, Math.max(1, Math.ceil(timeoutSeconds)));
      if (result.exitCode === 0) return undefined;
      const output = Buffer.concat([result.stdout, result.stderr]).toString();
      return `Exec lifecycle hook (${goList(command)}) for Container "${container.name}" in Pod "${podName}" failed - error: command '${command.join(' ')}' exited with ${result.exitCode}: ${output}, message: ${JSON.stringify(output)}`;
    } catch (error) {
      return `Exec lifecycle hook (${goList(command)}) for Container "${container.name}" in Pod "${podName}" failed - error: ${(error as Error).message}, message: ""`;
    }
  }
  if (handler.httpGet) {
    const get = handler.httpGet;
    const port = resolvePort(get.port as number | string, container);
    const host = get.host || podIP;
    const path = get.path ?? '';
    const scheme = (get.scheme ?? 'HTTP').toLowerCase();
    const headers: Record<string, string> = {};
    for (const h of get.httpHeaders ?? []) headers[h.name] = h.value;
    try {
      if (!port) throw new Error(`couldn't find port: ${String(get.port)} in ${container.name}`);
      const url = new URL(`${scheme}://${host}:${port}${path.startsWith('/') ? path : `/${path}`}`);
      const code = await httpGet(url, headers, timeoutSeconds * 1000);
      if (code >= 200 && code < 400) return undefined;
      return `HTTP lifecycle hook (${path}) for Container "${container.name}" in Pod "${podName}" failed - error: HTTP lifecycle hook (${path}) returned status code ${code}, message: ""`;
    } catch (error) {
      return `HTTP lifecycle hook (${path}) for Container "${container.name}" in Pod "${podName}" failed - error: ${(error as Error).message}, message: ""`;
    }
  }
  const sleep = (handler as { sleep?: { seconds?: number } }).sleep;
  if (sleep?.seconds) {
    await new Promise((resolve) => setTimeout(resolve, Math.min(sleep.seconds!, timeoutSeconds) * 1000));
    return undefined;
  }
  if (handler.tcpSocket) return `TCPSocket lifecycle hook for Container "${container.name}" in Pod "${podName}" failed - error: tcpSocket is deprecated and not supported as a LifecycleHandler`;
  return undefined;
}
