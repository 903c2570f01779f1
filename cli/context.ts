/** What every command gets: the server (resolved only when a command needs it) and the output. */
import { ApiClient } from './api-client.js';
import { resolveConnection } from './config-file.js';
import type { Output } from './output.js';

export interface Context {
  readonly out: Output;
  client(): Promise<ApiClient>;
  /** Aborted on SIGINT/SIGTERM, so streams and waits end cleanly. */
  readonly signal: AbortSignal;
}

export function createContext(out: Output, signal: AbortSignal, env: NodeJS.ProcessEnv = process.env): Context {
  let client: Promise<ApiClient> | undefined;
  return { out, signal, client: () => (client ??= resolveConnection(env).then((c) => new ApiClient(c))) };
}
