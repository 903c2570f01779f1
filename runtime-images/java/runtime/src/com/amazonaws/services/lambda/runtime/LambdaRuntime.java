package com.amazonaws.services.lambda.runtime;

import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * The process-wide logger, for code that has no Context at hand (logging appenders). The runtime
 * replaces {@code logger} with its own at start; until then this one writes to stdout.
 */
public final class LambdaRuntime {
    private static volatile LambdaLogger logger = new LambdaLogger() {
        public void log(String message) {
            System.out.print(message);
        }

        public void log(byte[] message) {
            try {
                System.out.write(message);
            } catch (IOException e) {
                System.out.print(new String(message, StandardCharsets.UTF_8));
            }
        }
    };

    private LambdaRuntime() {
    }

    public static LambdaLogger getLogger() {
        return logger;
    }

    /** Not part of the public API: the runtime installs its logger here. */
    static void install(LambdaLogger replacement) {
        logger = replacement;
    }
}
