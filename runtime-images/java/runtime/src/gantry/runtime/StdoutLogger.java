package gantry.runtime;

import com.amazonaws.services.lambda.runtime.LambdaLogger;
import com.amazonaws.services.lambda.runtime.logging.LogLevel;
import java.io.IOException;
import java.io.PrintStream;

/**
 * LambdaLogger in Lambda's text format: the message as given, on stdout. A message with a level
 * below AWS_LAMBDA_LOG_LEVEL is dropped; one without a level always goes out.
 */
final class StdoutLogger implements LambdaLogger {
    private final PrintStream out;
    private final LogLevel minimum;

    StdoutLogger(PrintStream out, String level) {
        this.out = out;
        LogLevel parsed = LogLevel.UNDEFINED;
        if (level != null && !level.isEmpty()) {
            try {
                parsed = LogLevel.fromString(level);
            } catch (IllegalArgumentException e) {
                parsed = LogLevel.UNDEFINED;
            }
        }
        this.minimum = parsed;
    }

    public void log(String message) {
        out.print(message);
    }

    public void log(byte[] message) {
        try {
            out.write(message);
        } catch (IOException e) {
            // PrintStream records its errors instead; nothing to do here
        }
    }

    public void log(String message, LogLevel level) {
        if (shows(level)) log(message);
    }

    public void log(byte[] message, LogLevel level) {
        if (shows(level)) log(message);
    }

    private boolean shows(LogLevel level) {
        return level == null || level == LogLevel.UNDEFINED || minimum == LogLevel.UNDEFINED || level.ordinal() >= minimum.ordinal();
    }
}
