/**
 * Why a SigV4 request was refused, in AWS's own names (compat.md §2.2, §2.5), and the answer
 * every Gantry endpoint that takes SigV4 gives: `x-amzn-ErrorType`, `x-amzn-RequestId`, a JSON
 * body and the `Date` header, from which the AWS SDKs correct their clock after a skew error.
 */

export type SigV4FailureCode =
  | 'MissingAuthenticationTokenException'
  | 'IncompleteSignatureException'
  | 'InvalidSignatureException'
  | 'UnrecognizedClientException'
  | 'ExpiredTokenException';

const STATUS: Readonly<Record<SigV4FailureCode, number>> = {
  MissingAuthenticationTokenException: 403,
  IncompleteSignatureException: 400,
  InvalidSignatureException: 403,
  UnrecognizedClientException: 403,
  ExpiredTokenException: 403,
};

export class SigV4Failure extends Error {
  override readonly name = 'SigV4Failure';
  readonly status: number;

  constructor(
    readonly code: SigV4FailureCode,
    message: string,
  ) {
    super(message);
    this.status = STATUS[code];
  }
}

export const MESSAGES = {
  mismatch:
    'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
  unknownKey: 'The security token included in the request is invalid.',
  expiredToken: 'The security token included in the request is expired',
  missing: 'Missing Authentication Token',
} as const;

export interface SigV4ErrorResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/**
 * The refusal as AWS sends it. `bodyShape` 'lambda' adds the Lambda envelope's `Type` (compat.md
 * §2.2); '@connections' answers only `{"message"}` (compat.md §6.4).
 */
export function sigv4ErrorResponse(f: SigV4Failure, requestId: string, bodyShape: 'lambda' | 'message', nowMs = Date.now()): SigV4ErrorResponse {
  const body = JSON.stringify(bodyShape === 'lambda' ? { Type: 'User', message: f.message } : { message: f.message });
  return {
    status: f.status,
    headers: {
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(body)),
      'x-amzn-ErrorType': f.code,
      'x-amzn-RequestId': requestId,
      date: new Date(nowMs).toUTCString(),
    },
    body,
  };
}
