package gantry.runtime;

import com.amazonaws.services.lambda.runtime.Client;
import com.amazonaws.services.lambda.runtime.ClientContext;
import com.amazonaws.services.lambda.runtime.CognitoIdentity;
import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.LambdaLogger;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.LinkedHashMap;
import java.util.Map;

/** The Context of one invocation: the function's facts from the environment, the rest from the next response's headers. */
final class InvocationContext implements Context {
    /** What does not change between invocations of this process. */
    static final class FunctionFacts {
        final String functionName;
        final String functionVersion;
        final int memoryLimitMb;
        final String logGroupName;
        final String logStreamName;
        final LambdaLogger logger;

        FunctionFacts(Map<String, String> env, LambdaLogger logger) {
            this.functionName = env.get("AWS_LAMBDA_FUNCTION_NAME");
            this.functionVersion = env.get("AWS_LAMBDA_FUNCTION_VERSION");
            this.logGroupName = env.get("AWS_LAMBDA_LOG_GROUP_NAME");
            this.logStreamName = env.get("AWS_LAMBDA_LOG_STREAM_NAME");
            int memory = 0;
            try {
                memory = Integer.parseInt(env.getOrDefault("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "0"));
            } catch (NumberFormatException e) {
                memory = 0;
            }
            this.memoryLimitMb = memory;
            this.logger = logger;
        }
    }

    private final FunctionFacts facts;
    private final String requestId;
    private final long deadlineMs;
    private final String invokedFunctionArn;
    private final String traceId;
    private final String tenantId;
    private final CognitoIdentity identity;
    private final ClientContext clientContext;

    /** @throws IllegalArgumentException when the client-context or identity header is not JSON */
    InvocationContext(FunctionFacts facts, Map<String, String> headers) {
        this.facts = facts;
        this.requestId = headers.get("lambda-runtime-aws-request-id");
        long deadline = 0;
        try {
            deadline = Long.parseLong(headers.getOrDefault("lambda-runtime-deadline-ms", "0"));
        } catch (NumberFormatException e) {
            deadline = 0;
        }
        this.deadlineMs = deadline;
        this.invokedFunctionArn = headers.get("lambda-runtime-invoked-function-arn");
        this.traceId = headers.get("lambda-runtime-trace-id");
        this.tenantId = headers.get("lambda-runtime-aws-tenant-id");
        this.identity = identity(headers.get("lambda-runtime-cognito-identity"));
        this.clientContext = clientContext(headers.get("lambda-runtime-client-context"));
    }

    public String getAwsRequestId() {
        return requestId;
    }

    public String getLogGroupName() {
        return facts.logGroupName;
    }

    public String getLogStreamName() {
        return facts.logStreamName;
    }

    public String getFunctionName() {
        return facts.functionName;
    }

    public String getFunctionVersion() {
        return facts.functionVersion;
    }

    public String getInvokedFunctionArn() {
        return invokedFunctionArn;
    }

    public CognitoIdentity getIdentity() {
        return identity;
    }

    public ClientContext getClientContext() {
        return clientContext;
    }

    public int getRemainingTimeInMillis() {
        long left = deadlineMs - System.currentTimeMillis();
        return left <= 0 ? 0 : (int) Math.min(left, Integer.MAX_VALUE);
    }

    public int getMemoryLimitInMB() {
        return facts.memoryLimitMb;
    }

    public LambdaLogger getLogger() {
        return facts.logger;
    }

    public String getTenantId() {
        return tenantId;
    }

    public String getXrayTraceId() {
        return traceId;
    }

    private static JsonNode parse(String json, String what) {
        try {
            return Json.MAPPER.readTree(json);
        } catch (Exception e) {
            throw new IllegalArgumentException("Unable to parse " + what + " JSON: " + e.getMessage(), e);
        }
    }

    private static CognitoIdentity identity(String header) {
        if (header == null || header.isEmpty()) return null;
        JsonNode n = parse(header, "Cognito Identity");
        String id = text(n, "cognitoIdentityId");
        String pool = text(n, "cognitoIdentityPoolId");
        return new CognitoIdentity() {
            public String getIdentityId() {
                return id;
            }

            public String getIdentityPoolId() {
                return pool;
            }
        };
    }

    private static ClientContext clientContext(String header) {
        if (header == null || header.isEmpty()) return null;
        JsonNode n = parse(header, "Client Context");
        Map<String, String> custom = strings(n.get("custom"));
        Map<String, String> environment = strings(n.get("env"));
        JsonNode c = n.get("client");
        Client client = c == null || !c.isObject() ? null : new Client() {
            public String getInstallationId() {
                return text(c, "installation_id");
            }

            public String getAppTitle() {
                return text(c, "app_title");
            }

            public String getAppVersionName() {
                return text(c, "app_version_name");
            }

            public String getAppVersionCode() {
                return text(c, "app_version_code");
            }

            public String getAppPackageName() {
                return text(c, "app_package_name");
            }
        };
        return new ClientContext() {
            public Client getClient() {
                return client;
            }

            public Map<String, String> getCustom() {
                return custom;
            }

            public Map<String, String> getEnvironment() {
                return environment;
            }
        };
    }

    private static String text(JsonNode n, String field) {
        JsonNode v = n == null ? null : n.get(field);
        return v == null || v.isNull() ? null : v.asText();
    }

    private static Map<String, String> strings(JsonNode n) {
        if (n == null || !n.isObject()) return null;
        Map<String, String> out = new LinkedHashMap<>();
        n.fields().forEachRemaining(e -> out.put(e.getKey(), e.getValue().isNull() ? null : e.getValue().asText()));
        return out;
    }
}
