package gantry.runtime;

import com.amazonaws.services.lambda.runtime.LambdaRuntime;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.PrintStream;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * Gantry's Java runtime client: java … gantry.runtime.Bootstrap [socketPath]
 *
 * Speaks the Lambda Runtime API over the container's unix socket (default
 * /run/gantry/runtime.sock; RuntimeApiClient.resolve names the other sources), loads _HANDLER from
 * LAMBDA_TASK_ROOT in its own class loader (UserClassLoader) and serves invocations one at a time.
 * Without _HANDLER it is a stem cell: a started JVM, its JSON machinery already warm, that first
 * asks GET /gantry/v1/specialize for its function.
 */
public final class Bootstrap {
    private static final String DEFAULT_SOCKET = "/run/gantry/runtime.sock";
    private static final String DEFAULT_TASK_ROOT = "/var/task";
    private static final int EXIT_FAILED = 1;

    private Bootstrap() {
    }

    public static void main(String[] args) {
        if (args.length > 0 && args[0].equals("--train")) {
            // Image build only: load what every start needs, for the class-data archive.
            Specialization.warmUp();
            return;
        }
        // Every write reaches the file descriptor at once (a FileOutputStream has no buffer), so
        // what an invocation printed has left the process before its result is posted.
        PrintStream out = new PrintStream(new FileOutputStream(FileDescriptor.out), true, StandardCharsets.UTF_8);
        PrintStream err = new PrintStream(new FileOutputStream(FileDescriptor.err), true, StandardCharsets.UTF_8);
        System.setOut(out);
        System.setErr(err);

        Map<String, String> env = System.getenv();
        RuntimeApiClient client = RuntimeApiClient.resolve(args.length > 0 ? args[0] : null, env, DEFAULT_SOCKET);

        String handler = env.get("_HANDLER");
        if (handler == null || handler.isEmpty()) {
            Specialization.warmUp();
            try {
                Specialization.apply(client.specialize());
            } catch (Exception e) {
                out.print("[ERROR] Runtime API specialize failed: " + e.getMessage() + "\n");
                System.exit(EXIT_FAILED);
                return;
            }
            env = System.getenv();
            handler = env.get("_HANDLER");
        }

        StdoutLogger logger = new StdoutLogger(out, env.get("AWS_LAMBDA_LOG_LEVEL"));
        installRuntimeLogger(logger);
        InvocationContext.FunctionFacts facts = new InvocationContext.FunctionFacts(env, logger);

        String taskRoot = env.getOrDefault("LAMBDA_TASK_ROOT", DEFAULT_TASK_ROOT);
        Invoker invoker;
        try {
            UserClassLoader loader = new UserClassLoader(taskRoot, Bootstrap.class.getClassLoader());
            Thread.currentThread().setContextClassLoader(loader);
            invoker = HandlerLoader.load(handler, loader);
        } catch (Throwable t) {
            UserFault fault = t instanceof UserFault ? (UserFault) t : UserFault.of(t, true);
            out.print(fault.logRecord());
            try {
                client.postInitError(ErrorDocument.of(fault), ErrorDocument.BAD_FUNCTION_CODE);
            } catch (RuntimeApiClient.ApiException e) {
                out.print("[ERROR] Runtime API init/error failed: " + e.getMessage() + "\n");
            }
            System.exit(EXIT_FAILED);
            return;
        }

        new InvokeLoop(client, invoker, facts, out, err).run();
    }

    /** LambdaRuntime.getLogger() answers the runtime's logger (its setter is not public API). */
    private static void installRuntimeLogger(StdoutLogger logger) {
        try {
            Method install = LambdaRuntime.class.getDeclaredMethod("install", com.amazonaws.services.lambda.runtime.LambdaLogger.class);
            install.setAccessible(true);
            install.invoke(null, logger);
        } catch (ReflectiveOperationException e) {
            // the default logger writes to stdout as well
        }
    }
}
