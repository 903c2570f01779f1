/**
 * Create or update one function from a folder: the code is uploaded only when its sha256 differs
 * from the server's, the configuration patched only in the fields that differ; then it waits,
 * bounded, until the server reports the function ready. Shared by `deploy` and `up`.
 */
import { errorOf, type ApiClient } from './api-client.js';
import { CliError, EXIT } from './exit-codes.js';
import { functionPath, type FunctionConfig, type FunctionSettings } from './function-types.js';
import { uploadBody } from './upload-progress.js';
import type { FolderZip } from './zip-folder.js';

const READY_TIMEOUT_MS = 120_000;
const READY_POLL_MS = 250;

export type DeployOutcome = 'created' | 'updated' | 'unchanged';

export async function currentFunction(client: ApiClient, name: string): Promise<FunctionConfig | undefined> {
  const res = await client.send('GET', functionPath(name));
  if (res.status === 404) return undefined;
  if (!res.ok) {
    throw await errorOf(res);
  }
  return (await res.json()) as FunctionConfig;
}

/** The fields of `want` that differ from `have` (PATCH replaces `environment` whole). */
export function settingsChanges(have: FunctionConfig, want: Partial<FunctionSettings>): Partial<FunctionSettings> {
  const changes: Record<string, unknown> = {};
  for (const k of ['runtime', 'handler', 'memoryMb', 'timeoutMs'] as const) {
    if (want[k] !== undefined && want[k] !== have[k]) changes[k] = want[k];
  }
  if (want.environment !== undefined && !sameRecord(want.environment, have.environment)) changes.environment = want.environment;
  return changes as Partial<FunctionSettings>;
}

export async function deployFunction(
  client: ApiClient,
  name: string,
  want: Partial<FunctionSettings>,
  code: FolderZip,
  signal?: AbortSignal,
): Promise<{ outcome: DeployOutcome; config: FunctionConfig }> {
  const have = await currentFunction(client, name);
  if (have === undefined) {
    if (want.runtime === undefined || want.handler === undefined) {
      throw new CliError(EXIT.usage, `function ${name} does not exist yet: give --runtime and --handler to create it`);
    }
    const body = Buffer.from(JSON.stringify({ name, ...want, code: { zipBase64: code.zip.toString('base64') } }));
    const created = await client.call<FunctionConfig>('POST', '/v1/functions', {
      body: uploadBody(body, `uploading ${name}`),
      headers: { 'content-type': 'application/json', 'content-length': String(body.length) },
    });
    return { outcome: 'created', config: await waitReady(client, created, code.sha256, signal) };
  }
  let config = have;
  let changed = false;
  if (have.codeSha256 !== code.sha256) {
    config = await client.call<FunctionConfig>('PUT', `${functionPath(name)}/code`, {
      body: uploadBody(code.zip, `uploading ${name}`),
      headers: { 'content-type': 'application/zip', 'content-length': String(code.zip.length) },
    });
    changed = true;
  }
  const changes = settingsChanges(config, want);
  if (Object.keys(changes).length > 0) {
    config = await client.call<FunctionConfig>('PATCH', functionPath(name), { json: changes });
    changed = true;
  }
  return { outcome: changed ? 'updated' : 'unchanged', config: changed ? await waitReady(client, config, code.sha256, signal) : config };
}

/** Ready: the server has the new code and, where it reports a state, calls it Active. */
async function waitReady(client: ApiClient, config: FunctionConfig, sha256: string, signal?: AbortSignal): Promise<FunctionConfig> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let c = config;
  for (;;) {
    if (c.codeSha256 === sha256 && (c.state === undefined || c.state === 'Active')) return c;
    if (c.state === 'Failed') throw new CliError(EXIT.server, `function ${c.name} failed to become ready`, 'FunctionFailed');
    if (Date.now() > deadline || signal?.aborted === true) throw new CliError(EXIT.server, `function ${c.name} was not ready within ${READY_TIMEOUT_MS / 1000} s`, 'Timeout');
    await new Promise((r) => setTimeout(r, READY_POLL_MS));
    c = (await currentFunction(client, c.name)) ?? c;
  }
}

export function sameRecord(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}
