package gantry.runtime;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Set;

/**
 * A failure the runtime reports for the function, shaped as AWS's Java runtime reports it:
 * errorMessage, errorType (absent for the runtime's own diagnoses such as a missing method), and
 * no stackTrace in the error document; the trace goes to the log only. A fatal fault ends the
 * process after it is reported (during init: POST init/error, then exit 1).
 */
final class UserFault extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private static final String RUNTIME_PACKAGE = UserFault.class.getPackageName() + ".";

    final String msg;
    final String exceptionType;
    final String trace;
    final boolean fatal;

    UserFault(String msg, String exceptionType, String trace, boolean fatal) {
        super(msg, null, false, false);
        this.msg = msg;
        this.exceptionType = exceptionType;
        this.trace = trace;
        this.fatal = fatal;
    }

    /** The runtime's own diagnosis, without an exception class (AWS sends no errorType for these). */
    static UserFault of(String msg) {
        return new UserFault(msg, null, null, false);
    }

    static UserFault of(Throwable t, boolean fatal) {
        if (t instanceof UserFault) return (UserFault) t;
        return new UserFault(message(t), t.getClass().getName(), trace(t), fatal);
    }

    /** A throwable's message, or its class name when it has none (as AWS reports it). */
    static String message(Throwable t) {
        String m = t.getLocalizedMessage();
        return m == null ? t.getClass().getName() : m;
    }

    /** The printed stack trace of {@code t}, without the runtime's own frames. */
    static String trace(Throwable t) {
        withoutRuntimeFrames(t);
        StringWriter sw = new StringWriter();
        t.printStackTrace(new PrintWriter(sw));
        return sw.toString();
    }

    /** Cuts every trace in the chain (causes, suppressed) at the first frame of the runtime. */
    static <T extends Throwable> T withoutRuntimeFrames(T t) {
        cut(t, Collections.newSetFromMap(new IdentityHashMap<>()));
        return t;
    }

    private static void cut(Throwable t, Set<Throwable> seen) {
        if (t == null || !seen.add(t)) return;
        StackTraceElement[] frames = t.getStackTrace();
        for (int i = 0; i < frames.length; i++) {
            if (frames[i].getClassName().startsWith(RUNTIME_PACKAGE)) {
                StackTraceElement[] kept = new StackTraceElement[i];
                System.arraycopy(frames, 0, kept, 0, i);
                t.setStackTrace(kept);
                break;
            }
        }
        cut(t.getCause(), seen);
        for (Throwable s : t.getSuppressed()) cut(s, seen);
    }

    /** What goes to the function's log for this fault, as AWS's runtime writes it. */
    String logRecord() {
        if (exceptionType != null || trace != null) {
            return msg + ": " + (exceptionType == null ? "" : exceptionType) + "\n" + (trace == null ? "" : trace) + "\n";
        }
        return msg + "\n";
    }
}
