/**
 * RFC 9110's grammar for what Gantry writes into HTTP headers from stored configuration: header
 * names and methods are tokens, values are visible characters with inner spaces, origins are
 * `scheme://host[:port]`. A stored value that passes these can never split a header line.
 * Pure: strings in, booleans or reasons out.
 */

/** `token = 1*tchar` (RFC 9110 §5.6.2): header field names and methods. */
export const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * A field value (RFC 9110 §5.5) without obs-text: visible ASCII with inner spaces or tabs, no
 * leading or trailing whitespace, so no CR, LF, NUL or other control character.
 */
const FIELD_VALUE = /^(?:[\x21-\x7e](?:[\x20\x21-\x7e\t]*[\x21-\x7e])?)?$/;

export function isToken(s: string): boolean {
  return TOKEN.test(s);
}

export function isFieldValue(s: string): boolean {
  return FIELD_VALUE.test(s);
}

/** Visible ASCII only, no space: what an identifier that may reach a URL or a header holds. */
export function isVisibleAscii(s: string): boolean {
  return /^[\x21-\x7e]+$/.test(s);
}

const LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

/** A DNS host name (RFC 1123): dot-separated labels of 1-63 letters, digits and inner hyphens. */
export function isHostName(s: string): boolean {
  if (s.length < 1 || s.length > 253) return false;
  return s.split('.').every((label) => LABEL.test(label));
}

const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;
const IPV6_LITERAL = /^\[[0-9A-Fa-f:.]{2,45}\]$/;
const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*$/;

/**
 * Why `s` is not a CORS origin (RFC 6454 serialisation: `scheme "://" host [ ":" port ]`, no
 * path, no user info), or `undefined` when it is one. `*` is the wildcard.
 */
export function originProblem(s: string): string | undefined {
  if (s === '*') return undefined;
  const sep = s.indexOf('://');
  if (sep < 0) return 'must be "*" or an origin like https://app.example.com';
  const scheme = s.slice(0, sep);
  if (!SCHEME.test(scheme)) return 'must start with a URL scheme such as https://';
  let hostPort = s.slice(sep + 3);
  let port: string | undefined;
  const colon = hostPort.lastIndexOf(':');
  if (colon >= 0 && !hostPort.endsWith(']')) {
    port = hostPort.slice(colon + 1);
    hostPort = hostPort.slice(0, colon);
  }
  if (port !== undefined && !(/^\d{1,5}$/.test(port) && Number(port) >= 1 && Number(port) <= 65535)) {
    return 'must have a port of 1-65535 after ":"';
  }
  if (!(isHostName(hostPort) || IPV4.test(hostPort) || IPV6_LITERAL.test(hostPort))) {
    return 'must be scheme://host[:port] with a host name or IP address and nothing after it';
  }
  return undefined;
}
