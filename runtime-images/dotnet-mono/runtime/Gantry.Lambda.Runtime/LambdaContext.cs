using System;
using System.Collections.Generic;
using System.Globalization;
using Amazon.Lambda.Core;

namespace Gantry.Lambda.Runtime
{
    /// <summary>The function's facts, read from the environment once (after specialisation for a stem cell).</summary>
    internal sealed class FunctionFacts
    {
        public string FunctionName;
        public string FunctionVersion;
        public int MemoryLimitInMB;
        public string LogGroupName;
        public string LogStreamName;

        public static FunctionFacts FromEnvironment()
        {
            int memory;
            int.TryParse(Environment.GetEnvironmentVariable("AWS_LAMBDA_FUNCTION_MEMORY_SIZE"), NumberStyles.None, CultureInfo.InvariantCulture, out memory);
            return new FunctionFacts
            {
                FunctionName = Environment.GetEnvironmentVariable("AWS_LAMBDA_FUNCTION_NAME") ?? "",
                FunctionVersion = Environment.GetEnvironmentVariable("AWS_LAMBDA_FUNCTION_VERSION") ?? "",
                MemoryLimitInMB = memory,
                LogGroupName = Environment.GetEnvironmentVariable("AWS_LAMBDA_LOG_GROUP_NAME") ?? "",
                LogStreamName = Environment.GetEnvironmentVariable("AWS_LAMBDA_LOG_STREAM_NAME") ?? "",
            };
        }
    }

    internal sealed class ContextLogger : ILambdaLogger
    {
        public static readonly ContextLogger Instance = new ContextLogger();

        public void Log(string message)
        {
            Console.Out.Write(message);
        }

        public void LogLine(string message)
        {
            Console.Out.WriteLine(message);
        }
    }

    /// <summary>One invocation's ILambdaContext, from the `next` answer's headers.</summary>
    internal sealed class LambdaContext : ILambdaContext
    {
        private static readonly DateTime Epoch = new DateTime(1970, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        private readonly FunctionFacts _facts;
        private readonly long _deadlineMs;
        private readonly Dictionary<string, string> _headers;
        private IClientContext _clientContext;
        private ICognitoIdentity _identity;
        private bool _parsedClientContext;
        private bool _parsedIdentity;

        public LambdaContext(FunctionFacts facts, Invocation invocation)
        {
            _facts = facts;
            _headers = invocation.Headers;
            AwsRequestId = invocation.RequestId;
            string value;
            InvokedFunctionArn = _headers.TryGetValue("lambda-runtime-invoked-function-arn", out value) ? value : "";
            long deadline;
            _deadlineMs = _headers.TryGetValue("lambda-runtime-deadline-ms", out value)
                && long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out deadline) ? deadline : 0;
        }

        public string AwsRequestId { get; private set; }
        public string InvokedFunctionArn { get; private set; }
        public string FunctionName { get { return _facts.FunctionName; } }
        public string FunctionVersion { get { return _facts.FunctionVersion; } }
        public int MemoryLimitInMB { get { return _facts.MemoryLimitInMB; } }
        public string LogGroupName { get { return _facts.LogGroupName; } }
        public string LogStreamName { get { return _facts.LogStreamName; } }
        public ILambdaLogger Logger { get { return ContextLogger.Instance; } }

        public TimeSpan RemainingTime
        {
            get
            {
                long left = _deadlineMs - (long)(DateTime.UtcNow - Epoch).TotalMilliseconds;
                return TimeSpan.FromMilliseconds(Math.Max(0, left));
            }
        }

        /// <summary>Parsed on first use: most handlers never look, and a bad header must not fail the call.</summary>
        public IClientContext ClientContext
        {
            get
            {
                if (!_parsedClientContext)
                {
                    _parsedClientContext = true;
                    var doc = ParseHeader("lambda-runtime-client-context");
                    if (doc != null) _clientContext = new ClientContextInfo(doc);
                }
                return _clientContext;
            }
        }

        public ICognitoIdentity Identity
        {
            get
            {
                if (!_parsedIdentity)
                {
                    _parsedIdentity = true;
                    var doc = ParseHeader("lambda-runtime-cognito-identity");
                    if (doc != null) _identity = new CognitoIdentityInfo(Text(doc, "cognitoIdentityId"), Text(doc, "cognitoIdentityPoolId"));
                }
                return _identity;
            }
        }

        private Dictionary<string, object> ParseHeader(string name)
        {
            string value;
            if (!_headers.TryGetValue(name, out value) || value.Length == 0) return null;
            try
            {
                return Json.Parse(value) as Dictionary<string, object>;
            }
            catch (FormatException)
            {
                return null;
            }
        }

        internal static string Text(Dictionary<string, object> doc, string key)
        {
            object value;
            return doc != null && doc.TryGetValue(key, out value) && value != null ? Convert.ToString(value, CultureInfo.InvariantCulture) : null;
        }

        internal static IDictionary<string, string> Strings(Dictionary<string, object> doc, string key)
        {
            object value;
            var result = new Dictionary<string, string>();
            if (doc != null && doc.TryGetValue(key, out value) && value is Dictionary<string, object>)
                foreach (var kv in (Dictionary<string, object>)value)
                    result[kv.Key] = kv.Value == null ? null : Convert.ToString(kv.Value, CultureInfo.InvariantCulture);
            return result;
        }
    }

    internal sealed class CognitoIdentityInfo : ICognitoIdentity
    {
        public CognitoIdentityInfo(string id, string poolId)
        {
            IdentityId = id;
            IdentityPoolId = poolId;
        }

        public string IdentityId { get; private set; }
        public string IdentityPoolId { get; private set; }
    }

    internal sealed class ClientContextInfo : IClientContext
    {
        public ClientContextInfo(Dictionary<string, object> doc)
        {
            Environment = LambdaContext.Strings(doc, "env");
            Custom = LambdaContext.Strings(doc, "custom");
            object client;
            var c = doc.TryGetValue("client", out client) ? client as Dictionary<string, object> : null;
            Client = new ClientApplicationInfo
            {
                AppPackageName = LambdaContext.Text(c, "app_package_name"),
                AppTitle = LambdaContext.Text(c, "app_title"),
                AppVersionCode = LambdaContext.Text(c, "app_version_code"),
                AppVersionName = LambdaContext.Text(c, "app_version_name"),
                InstallationId = LambdaContext.Text(c, "installation_id"),
            };
        }

        public IDictionary<string, string> Environment { get; private set; }
        public IClientApplication Client { get; private set; }
        public IDictionary<string, string> Custom { get; private set; }
    }

    internal sealed class ClientApplicationInfo : IClientApplication
    {
        public string AppPackageName { get; set; }
        public string AppTitle { get; set; }
        public string AppVersionCode { get; set; }
        public string AppVersionName { get; set; }
        public string InstallationId { get; set; }
    }
}
