// The `context` object handed to the handler (compat.md §1.6), built per invocation from the
// environment and the `next` response headers, as the RIC's InvokeContext does.

const H = {
  requestId: 'lambda-runtime-aws-request-id',
  deadlineMs: 'lambda-runtime-deadline-ms',
  functionArn: 'lambda-runtime-invoked-function-arn',
  traceId: 'lambda-runtime-trace-id',
  clientContext: 'lambda-runtime-client-context',
  cognitoIdentity: 'lambda-runtime-cognito-identity',
  tenantId: 'lambda-runtime-aws-tenant-id',
};

/**
 * @param {object} args
 * @param {Record<string, string | string[] | undefined>} args.headers `next` response headers (lower-case)
 * @param {Record<string, string | undefined>} args.env
 * @param {{succeed: Function, fail: Function, done: Function,
 *          getWaitsForEmptyEventLoop: () => boolean, setWaitsForEmptyEventLoop: (v: boolean) => void}} args.completion
 * @throws Error when the client-context or cognito-identity header is not JSON
 */
export function buildContext({ headers, env, completion }) {
  const deadlineMs = Number.parseInt(header(headers, H.deadlineMs), 10);
  const context = {
    get callbackWaitsForEmptyEventLoop() {
      return completion.getWaitsForEmptyEventLoop();
    },
    set callbackWaitsForEmptyEventLoop(value) {
      completion.setWaitsForEmptyEventLoop(value);
    },
    succeed: completion.succeed,
    fail: completion.fail,
    done: completion.done,
    functionVersion: env.AWS_LAMBDA_FUNCTION_VERSION,
    functionName: env.AWS_LAMBDA_FUNCTION_NAME,
    memoryLimitInMB: env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    logGroupName: env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: env.AWS_LAMBDA_LOG_STREAM_NAME,
    clientContext: parseJsonHeader(header(headers, H.clientContext), 'ClientContext'),
    identity: parseJsonHeader(header(headers, H.cognitoIdentity), 'CognitoIdentity'),
    invokedFunctionArn: header(headers, H.functionArn),
    awsRequestId: header(headers, H.requestId),
    getRemainingTimeInMillis() {
      return deadlineMs - Date.now();
    },
  };
  const tenantId = header(headers, H.tenantId);
  if (tenantId) context.tenantId = tenantId;
  return context;
}

/** Copy the X-Ray trace header into `_X_AMZN_TRACE_ID`, or delete it when absent. */
export function updateTraceEnv(headers, env) {
  const traceId = header(headers, H.traceId);
  if (traceId) env._X_AMZN_TRACE_ID = traceId;
  else delete env._X_AMZN_TRACE_ID;
}

function parseJsonHeader(value, name) {
  if (value === undefined || value === '') return undefined;
  try {
    return JSON.parse(value);
  } catch (err) {
    throw new Error(`Cannot parse ${name} as json: ${err.message}`);
  }
}

function header(headers, name) {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}
