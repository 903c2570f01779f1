package gantry.runtime;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * The ErrorRequest body (compat.md 1.3) as AWS's Java runtime posts it:
 * {"errorMessage", "errorType", "stackTrace": ["pkg.Class.method(File.java:12)", …]} for an
 * exception the handler threw, and {"errorMessage", "errorType"?} for a fault the runtime found.
 */
final class ErrorDocument {
    /** Lambda-Runtime-Function-Error-Type values of AWS's Java runtime. */
    static final String BAD_FUNCTION_CODE = "Runtime.BadFunctionCode";
    static final String USER_EXCEPTION = "Runtime.UserException";

    private ErrorDocument() {
    }

    static byte[] of(UserFault fault) {
        ObjectNode doc = Json.MAPPER.createObjectNode();
        doc.put("errorMessage", fault.msg);
        if (fault.exceptionType != null) doc.put("errorType", fault.exceptionType);
        return bytes(doc);
    }

    static byte[] of(Throwable t) {
        ObjectNode doc = Json.MAPPER.createObjectNode();
        doc.put("errorMessage", UserFault.message(t));
        doc.put("errorType", t.getClass().getName());
        ArrayNode trace = doc.putArray("stackTrace");
        for (StackTraceElement frame : t.getStackTrace()) trace.add(frame.toString());
        return bytes(doc);
    }

    private static byte[] bytes(ObjectNode doc) {
        try {
            return Json.MAPPER.writeValueAsBytes(doc);
        } catch (Exception e) {
            // A tree of strings always serialises; keep a valid document if it somehow does not.
            return "{\"errorMessage\":\"error document could not be serialised\",\"errorType\":\"Runtime.Unknown\"}".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        }
    }
}
