using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Reflection;
using System.Text;

namespace Gantry.Lambda.Runtime
{
    /// <summary>
    /// A handler load failure (bad handler string, missing type or method, no serializer): the
    /// name and messages are those of AWS's .NET runtime, so errorType is LambdaValidationException.
    /// </summary>
    internal sealed class LambdaValidationException : Exception
    {
        public LambdaValidationException(string message) : base(message) { }

        public LambdaValidationException(string message, Exception inner) : base(message, inner) { }
    }

    /// <summary>
    /// The error document AWS's .NET runtime posts: errorType is the exception class's short name,
    /// errorMessage its message, stackTrace its frames one per line (trimmed), `cause` the inner
    /// exception and `causes` an AggregateException's inner ones, all within 256 KB.
    /// </summary>
    internal static class ErrorDocument
    {
        private const int MaxBytes = 256 * 1024;
        private const int MaxCauseDepth = 16;
        private const string Truncated = "{\"errorMessage\": \"Exception exceeded maximum payload size of 256KB.\"}";

        /// <summary>Reflection wraps what a handler throws; the caller wants the handler's own exception.</summary>
        public static Exception Unwrap(Exception e)
        {
            while (e is TargetInvocationException && e.InnerException != null) e = e.InnerException;
            return e;
        }

        public static string ErrorType(Exception e)
        {
            return e.GetType().Name;
        }

        public static byte[] ToJson(Exception e)
        {
            var sb = new StringBuilder();
            Append(sb, e, 0);
            byte[] bytes = Encoding.UTF8.GetBytes(sb.ToString());
            return bytes.Length <= MaxBytes ? bytes : Encoding.UTF8.GetBytes(Truncated);
        }

        private static void Append(StringBuilder sb, Exception e, int depth)
        {
            sb.Append("{\"errorType\": ");
            Json.AppendQuoted(sb, ErrorType(e));
            sb.Append(", \"errorMessage\": ");
            Json.AppendQuoted(sb, e.Message ?? "");
            var frames = StackLines(e);
            if (frames.Count > 0)
            {
                sb.Append(", \"stackTrace\": [");
                for (int i = 0; i < frames.Count; i++)
                {
                    if (i > 0) sb.Append(", ");
                    Json.AppendQuoted(sb, frames[i]);
                }
                sb.Append(']');
            }
            if (depth < MaxCauseDepth)
            {
                if (e.InnerException != null)
                {
                    sb.Append(", \"cause\": ");
                    Append(sb, e.InnerException, depth + 1);
                }
                var aggregate = e as AggregateException;
                if (aggregate != null && aggregate.InnerExceptions.Count > 0)
                {
                    sb.Append(", \"causes\": [");
                    for (int i = 0; i < aggregate.InnerExceptions.Count; i++)
                    {
                        if (i > 0) sb.Append(", ");
                        Append(sb, aggregate.InnerExceptions[i], depth + 1);
                    }
                    sb.Append(']');
                }
            }
            sb.Append('}');
        }

        private static List<string> StackLines(Exception e)
        {
            var lines = new List<string>();
            string trace;
            try
            {
                trace = string.IsNullOrEmpty(e.StackTrace) ? null : new StackTrace(e, true).ToString();
            }
            catch (Exception)
            {
                trace = e.StackTrace;
            }
            if (trace == null) return lines;
            foreach (string line in trace.Split('\n'))
            {
                string s = line.Trim();
                if (s.Length > 0) lines.Add(s);
            }
            return lines;
        }
    }
}
