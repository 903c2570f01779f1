/** The parts of api.md's FunctionConfig the CLI reads (the server may send more). */
export interface FunctionConfig {
  readonly name: string;
  readonly runtime: string;
  readonly handler: string;
  readonly memoryMb: number;
  readonly timeoutMs: number;
  readonly environment: Record<string, string>;
  readonly codeSha256: string;
  readonly codeSize: number;
  readonly updatedAt: string;
  /** Set by servers that prepare functions asynchronously; absent means ready. */
  readonly state?: string;
}

/** What a deploy or `up` sets on a function. */
export interface FunctionSettings {
  readonly runtime: string;
  readonly handler: string;
  readonly memoryMb?: number;
  readonly timeoutMs?: number;
  readonly environment?: Record<string, string>;
}

export function functionPath(name: string): string {
  return `/v1/functions/${encodeURIComponent(name)}`;
}
