package com.amazonaws.services.lambda.runtime;

/** Kept for code that toggles the log4j appender flag; Gantry's runtime does not read it. */
public final class LambdaRuntimeInternal {
    private static volatile boolean useLog4jAppender;

    private LambdaRuntimeInternal() {
    }

    public static void setUseLog4jAppender(boolean useLog4j) {
        useLog4jAppender = useLog4j;
    }

    public static boolean getUseLog4jAppender() {
        return useLog4jAppender;
    }
}
