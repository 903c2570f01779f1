// Gantry's .NET (Mono) runtime client: mono /var/runtime/bootstrap.exe [socketPath]
//
// Speaks the Lambda Runtime API (/2018-06-01) over the per-container unix socket, default
// /run/gantry/runtime.sock (else $GANTRY_RUNTIME_API_SOCKET, else AWS_LAMBDA_RUNTIME_API host:port
// when that socket does not exist). Loads _HANDLER (Assembly::Namespace.Class::Method) from
// LAMBDA_TASK_ROOT. Without _HANDLER it is a stem cell and first asks GET /gantry/v1/specialize
// for its function, so nothing of the function's is in the process before it is assigned.
using System;
using System.Collections;
using System.IO;
using System.Reflection;
using System.Text;
using Amazon.Lambda.Core;

namespace Gantry.Lambda.Runtime
{
    internal static class Program
    {
        private const string DefaultSocketPath = "/run/gantry/runtime.sock";
        private const string DefaultTaskRoot = "/var/task";
        private const int ExitFailed = 1;

        private static int Main(string[] args)
        {
            InstallStdio();
            var client = new RuntimeApiClient(ResolveTarget(args.Length > 0 ? args[0] : null));

            if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable("_HANDLER")))
            {
                try
                {
                    foreach (var kv in client.Specialize()) Environment.SetEnvironmentVariable(kv.Key, kv.Value);
                }
                catch (RuntimeApiException e)
                {
                    Console.Error.WriteLine("[ERROR] Runtime API specialize failed: " + e.Message);
                    return ExitFailed;
                }
                // TZ may have changed; TimeZoneInfo.Local reads it again only when its cache is cleared.
                TimeZoneInfo.ClearCachedData();
            }

            string taskRoot = Environment.GetEnvironmentVariable("LAMBDA_TASK_ROOT");
            if (string.IsNullOrEmpty(taskRoot)) taskRoot = DefaultTaskRoot;
            ResolveFrom(taskRoot);

            UserHandler handler;
            try
            {
                handler = UserHandler.Load(taskRoot, Environment.GetEnvironmentVariable("_HANDLER"));
            }
            catch (Exception e)
            {
                Console.Error.WriteLine(e);
                try
                {
                    client.PostInitError(ErrorDocument.ToJson(e), ErrorDocument.ErrorType(e));
                }
                catch (RuntimeApiException post)
                {
                    Console.Error.WriteLine("[ERROR] Runtime API init/error failed: " + post.Message);
                }
                return ExitFailed;
            }

            var facts = FunctionFacts.FromEnvironment();
            while (true)
            {
                Invocation invocation;
                try
                {
                    invocation = client.Next();
                }
                catch (RuntimeApiException e)
                {
                    Console.Error.WriteLine("[ERROR] Runtime API next failed: " + e.Message);
                    return ExitFailed;
                }
                if (!Serve(client, handler, facts, invocation)) return ExitFailed;
            }
        }

        /// <summary>One invocation; false when the runtime must stop.</summary>
        private static bool Serve(RuntimeApiClient client, UserHandler handler, FunctionFacts facts, Invocation invocation)
        {
            string trace;
            Environment.SetEnvironmentVariable("_X_AMZN_TRACE_ID", invocation.Headers.TryGetValue("lambda-runtime-trace-id", out trace) ? trace : null);
            HandlerResult result = default(HandlerResult);
            Exception error = null;
            try
            {
                result = handler.Invoke(invocation, new LambdaContext(facts, invocation));
            }
            catch (Exception e)
            {
                error = ErrorDocument.Unwrap(e);
            }
            try
            {
                if (error == null)
                {
                    FlushStdio();
                    client.PostResponse(invocation.RequestId, result.Body, result.Length, result.ContentType);
                }
                else
                {
                    // As AWS's runtime: the whole exception to stderr, then the error document.
                    Console.Error.WriteLine(error);
                    FlushStdio();
                    client.PostError(invocation.RequestId, ErrorDocument.ToJson(error), ErrorDocument.ErrorType(error));
                }
            }
            catch (RuntimeApiException e)
            {
                if (!e.Fatal)
                {
                    // The platform refused the post (stale id, already answered, too large) and
                    // decides the invocation's outcome itself. Keep serving.
                    Console.Error.WriteLine("[ERROR] Runtime API refused the result: " + e.Message);
                    return true;
                }
                Console.Error.WriteLine("[ERROR] Runtime API post failed: " + e.Message);
                return false;
            }
            return true;
        }

        internal static RuntimeApiTarget ResolveTarget(string argvSocketPath)
        {
            if (!string.IsNullOrEmpty(argvSocketPath)) return new RuntimeApiTarget { SocketPath = argvSocketPath };
            string socket = Environment.GetEnvironmentVariable("GANTRY_RUNTIME_API_SOCKET");
            if (!string.IsNullOrEmpty(socket)) return new RuntimeApiTarget { SocketPath = socket };
            string api = Environment.GetEnvironmentVariable("AWS_LAMBDA_RUNTIME_API");
            if (!string.IsNullOrEmpty(api) && !File.Exists(DefaultSocketPath))
            {
                int colon = api.LastIndexOf(':');
                int port;
                if (colon < 0 || !int.TryParse(api.Substring(colon + 1), out port)) return new RuntimeApiTarget { Host = api, Port = 80 };
                return new RuntimeApiTarget { Host = api.Substring(0, colon).Trim('[', ']'), Port = port };
            }
            return new RuntimeApiTarget { SocketPath = DefaultSocketPath };
        }

        /// <summary>
        /// stdout and stderr in UTF-8 without a byte-order mark, flushed on every write, so what an
        /// invocation printed has left the process before its result.
        /// </summary>
        private static void InstallStdio()
        {
            var utf8 = new UTF8Encoding(false);
            Console.SetOut(TextWriter.Synchronized(new StreamWriter(Console.OpenStandardOutput(), utf8) { AutoFlush = true }));
            Console.SetError(TextWriter.Synchronized(new StreamWriter(Console.OpenStandardError(), utf8) { AutoFlush = true }));
        }

        private static void FlushStdio()
        {
            try { Console.Out.Flush(); } catch (Exception) { }
            try { Console.Error.Flush(); } catch (Exception) { }
        }

        /// <summary>
        /// The function's dependencies resolve from the task root (the zip's root, where AWS's runtime
        /// looks too), and Amazon.Lambda.Core always to the runtime's own copy, so the ILambdaContext
        /// a handler takes is the one the runtime passes even when the zip bundles the package.
        /// </summary>
        private static void ResolveFrom(string taskRoot)
        {
            Assembly core = typeof(ILambdaContext).Assembly;
            AppDomain.CurrentDomain.AssemblyResolve += (sender, e) =>
            {
                string name = new AssemblyName(e.Name).Name;
                if (name == core.GetName().Name) return core;
                string path = UserHandler.TaskAssemblyPath(taskRoot, name);
                return path == null ? null : Assembly.LoadFrom(path);
            };
        }
    }
}
