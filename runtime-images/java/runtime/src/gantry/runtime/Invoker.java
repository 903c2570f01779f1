package gantry.runtime;

import com.amazonaws.services.lambda.runtime.Context;
import java.io.ByteArrayOutputStream;

/** One loaded handler: the raw event in, the raw result written to {@code out}. */
interface Invoker {
    void invoke(byte[] event, ByteArrayOutputStream out, Context context) throws Throwable;

    /** A handler that could not be loaded: every invocation reports the same fault (AWS's behaviour for a missing class or method). */
    static Invoker failing(UserFault fault) {
        return (event, out, context) -> {
            throw fault;
        };
    }
}
