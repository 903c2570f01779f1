/**
 * Builds the Lambda API from its slice of the config: the Express app the control plane's port
 * serves beside the admin API, and the function-facing endpoint (its own listener).
 */
import type http from 'node:http';
import type { ErrorBody } from '../../common/http-boundary.js';
import type { ControlPlaneConfig } from '../config.js';
import { CodeLocation } from './code-location.js';
import { FunctionLambdaEndpoint } from './function-endpoint.js';
import { LambdaAttributesStore } from './lambda-attributes-store.js';
import { createLambdaApp, isLambdaApiPath, type LambdaAuthentication } from './lambda-app.js';
import type { LambdaApiDeps } from './lambda-context.js';
import { LambdaApiError } from './lambda-errors.js';

export type LambdaApiConfig = Pick<ControlPlaneConfig, 'GANTRY_REGION' | 'GANTRY_ASYNC_MAX_PAYLOAD_BYTES' | 'GANTRY_FUNCTION_LAMBDA_PORT'>;

export interface LambdaApi {
  readonly isLambdaPath: (url: string | undefined) => boolean;
  readonly serve: (req: http.IncomingMessage, res: http.ServerResponse) => void;
  readonly functionEndpoint: FunctionLambdaEndpoint;
}

export interface LambdaApiParts extends Omit<LambdaApiDeps, 'region' | 'attributes' | 'codeLocation' | 'maxAsyncPayloadBytes'> {
  readonly pool: ConstructorParameters<typeof LambdaAttributesStore>[0];
  /** The control plane's secret, for presigned code URLs (known once started). */
  readonly secret: () => string;
  /** Who sent a request (the SigV4 middleware); without one nothing is let through. */
  readonly authenticate?: LambdaAuthentication;
  readonly errorBody: ErrorBody;
}

const refuseAll: LambdaAuthentication = () => {
  throw new LambdaApiError('UnrecognizedClientException', 'The security token included in the request is invalid.');
};

export function createLambdaApi(p: LambdaApiParts, c: LambdaApiConfig): LambdaApi {
  const deps: LambdaApiDeps = {
    ...p,
    region: c.GANTRY_REGION,
    attributes: new LambdaAttributesStore(p.pool),
    codeLocation: new CodeLocation(p.secret),
    maxAsyncPayloadBytes: c.GANTRY_ASYNC_MAX_PAYLOAD_BYTES,
  };
  const app = createLambdaApp(deps, p.authenticate ?? refuseAll);
  const serve = (req: http.IncomingMessage, res: http.ServerResponse) => {
    app(req, res);
  };
  return {
    isLambdaPath: isLambdaApiPath,
    serve,
    functionEndpoint: new FunctionLambdaEndpoint({ isLambdaPath: isLambdaApiPath, serve }, p.errorBody, p.logger.child({ component: 'lambda-api' }), c.GANTRY_FUNCTION_LAMBDA_PORT),
  };
}
