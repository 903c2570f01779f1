/**
 * The `execute-api` host name of a WebSocket API, `{apiId}.execute-api.{region}.amazonaws.com`, as
 * AWS names an API's default endpoint. Gantry puts it in the `domainName` of WebSocket events on the
 * shared host (where the Host header names no API), so `https://{domainName}/{stage}` names the
 * API, and maps it to the gateway inside function containers (issue 15 §4). Pure.
 */
const PATTERN = /^([a-z0-9]+)\.execute-api\.([a-z0-9-]+)\.amazonaws\.com\.?(?::443)?$/i;

export function executeApiHost(apiId: string, region: string): string {
  return `${apiId.toLowerCase()}.execute-api.${region}.amazonaws.com`;
}

/** The API id an `execute-api` host name carries (case-insensitive, `:443` allowed), else undefined. */
export function apiIdOfExecuteApiHost(host: string): string | undefined {
  return PATTERN.exec(host.trim())?.[1]?.toLowerCase();
}
