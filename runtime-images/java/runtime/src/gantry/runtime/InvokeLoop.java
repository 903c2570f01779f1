package gantry.runtime;

import java.io.ByteArrayOutputStream;
import java.io.IOError;
import java.io.PrintStream;

/**
 * GET next -> handler -> POST response (the bytes the handler produced, as application/json) or
 * error (ErrorDocument). Any Throwable of the handler is reported; a VirtualMachineError (out of
 * memory, stack overflow), an IOError or a fatal fault ends the process after its report, as in
 * AWS's runtime. Exit 1 when the Runtime API fails (non-200 next, 5xx or no answer to a post); a
 * 4xx answer to a post is logged and the loop goes on.
 */
final class InvokeLoop {
    private static final int EXIT_FAILED = 1;
    private static final String TRACE_PROPERTY = "com.amazonaws.xray.traceHeader";
    /** Results above this are not kept for the next invocation's buffer. */
    private static final int KEEP_BUFFER_BYTES = 1024 * 1024;

    private final RuntimeApiClient client;
    private final Invoker invoker;
    private final InvocationContext.FunctionFacts facts;
    private final PrintStream out;
    private final PrintStream err;
    private ByteArrayOutputStream buffer = new ByteArrayOutputStream(4096);

    InvokeLoop(RuntimeApiClient client, Invoker invoker, InvocationContext.FunctionFacts facts, PrintStream out, PrintStream err) {
        this.client = client;
        this.invoker = invoker;
        this.facts = facts;
        this.out = out;
        this.err = err;
    }

    void run() {
        while (true) {
            RuntimeApiClient.Response next;
            try {
                next = client.next();
            } catch (RuntimeApiClient.ApiException e) {
                die("Runtime API next failed: " + e.getMessage());
                return;
            }
            if (!invoke(next)) return;
        }
    }

    private boolean invoke(RuntimeApiClient.Response next) {
        String requestId = next.headers.get("lambda-runtime-aws-request-id");
        String trace = next.headers.get("lambda-runtime-trace-id");
        if (trace != null) System.setProperty(TRACE_PROPERTY, trace);
        else System.clearProperty(TRACE_PROPERTY);

        if (buffer.size() > KEEP_BUFFER_BYTES) buffer = new ByteArrayOutputStream(4096);
        buffer.reset();
        Throwable failure = null;
        try {
            InvocationContext context = new InvocationContext(facts, next.headers);
            invoker.invoke(next.body, buffer, context);
        } catch (Throwable t) {
            failure = t;
        }
        // Interrupts the handler left behind must not break the next call.
        Thread.interrupted();
        out.flush();
        err.flush();
        boolean exitAfter = false;
        try {
            if (failure == null) {
                client.postResponse(requestId, buffer.toByteArray());
            } else {
                UserFault.withoutRuntimeFrames(failure);
                UserFault fault = UserFault.of(failure, false);
                exitAfter = failure instanceof VirtualMachineError || failure instanceof IOError || fault.fatal;
                byte[] doc = failure instanceof UserFault ? ErrorDocument.of(fault) : ErrorDocument.of(failure);
                String type = failure instanceof UserFault ? ErrorDocument.BAD_FUNCTION_CODE : ErrorDocument.USER_EXCEPTION;
                out.print(fault.logRecord());
                client.postError(requestId, doc, type);
            }
        } catch (RuntimeApiClient.ApiException e) {
            if (!e.fatal) {
                // The platform refused the post (stale id, already answered, too large); it
                // decides the invocation's outcome itself. Keep serving.
                out.print("[ERROR] Runtime API refused the result: " + e.getMessage() + "\n");
                return !exitAfter || exit();
            }
            die("Runtime API post failed: " + e.getMessage());
            return false;
        } catch (OutOfMemoryError e) {
            die("Out of memory while posting the result");
            return false;
        }
        return !exitAfter || exit();
    }

    private boolean exit() {
        out.flush();
        System.exit(EXIT_FAILED);
        return false;
    }

    private void die(String message) {
        out.print("[ERROR] " + message + "\n");
        System.exit(EXIT_FAILED);
    }
}
