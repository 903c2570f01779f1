/**
 * One matched request, seen the ways the routed path needs it: the event of either payload
 * version (built on demand, at most once each, so an open 2.0 route never builds a 1.0 event)
 * and the identity view authorizers read. Pure apart from memoisation.
 */
import type { IdentityRequest } from '../auth/identity-source.js';
import { buildHttpV1Event, type HttpV1Event } from '../events/http-v1-event.js';
import { buildHttpV2Event, type HttpV2Event, type HttpV2EventInput } from '../events/http-v2-event.js';
import { parseQueryString } from '../events/query-string.js';

export interface RoutedRequestInput extends Omit<HttpV2EventInput, 'body' | 'authorizer'> {
  readonly resource: string;
  readonly resourceId: string;
  readonly requestPath: string;
  readonly deploymentId: string;
}

/** What the guard adds once it has let the request through. */
export interface Admitted {
  readonly authorizer: Record<string, unknown> | undefined;
  readonly apiKey: { readonly value: string; readonly id: string } | undefined;
}

export class RoutedRequest {
  private v2: HttpV2Event | undefined;
  private v1: HttpV1Event | undefined;
  private identityView: IdentityRequest | undefined;

  constructor(readonly input: RoutedRequestInput) {}

  /** The 2.0 event without body or authorizer: what a 2.0 Lambda authorizer is built from. */
  readonly v2Event = (): HttpV2Event => (this.v2 ??= buildHttpV2Event({ ...this.input, body: undefined }));

  /** The 1.0 event without body, authorizer or key. */
  readonly v1Event = (): HttpV1Event => (this.v1 ??= buildHttpV1Event({ ...this.input, body: undefined }));

  readonly identity = (): IdentityRequest => (this.identityView ??= this.buildIdentity());

  /** The target's event, with the body and what the guard admitted. */
  targetEvent(version: '1.0' | '2.0', body: Buffer | undefined, admitted: Admitted): HttpV1Event | HttpV2Event {
    const extra = admitted.authorizer ? { authorizer: admitted.authorizer } : {};
    if (version === '2.0') return buildHttpV2Event({ ...this.input, body, ...extra });
    return buildHttpV1Event({ ...this.input, body, ...extra, ...(admitted.apiKey ? { apiKey: admitted.apiKey } : {}) });
  }

  private buildIdentity(): IdentityRequest {
    const headers = new Map<string, string>();
    const raw = this.input.rawHeaders;
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const name = (raw[i] ?? '').toLowerCase();
      const previous = headers.get(name);
      headers.set(name, previous === undefined ? (raw[i + 1] ?? '') : `${previous},${raw[i + 1] ?? ''}`);
    }
    const i = this.input;
    return {
      headers: Object.fromEntries(headers),
      query: i.rawQueryString === '' ? {} : parseQueryString(i.rawQueryString),
      // The $context variables that have a value on every routed request.
      context: {
        routeKey: i.routeKey,
        httpMethod: i.method,
        path: i.rawPath,
        stage: i.stage ?? '$default',
        requestId: i.requestId,
        apiId: i.apiId,
        domainName: i.domainName,
        'identity.sourceIp': i.sourceIp,
      },
    };
  }
}
