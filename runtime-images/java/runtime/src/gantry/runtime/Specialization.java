package gantry.runtime;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayOutputStream;
import java.lang.reflect.Field;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TimeZone;

/**
 * A stem cell's part: warm the JSON machinery before asking for a function, then take the
 * function's environment from the specialize answer.
 *
 * Java reads the process environment once, into an unmodifiable map, and System.getenv serves
 * that map for the life of the JVM. The answer's variables are put into the map behind it, so the
 * function sees the same System.getenv() as in a container started for it. Variables the JVM reads only at
 * start (JAVA_TOOL_OPTIONS, _JAVA_OPTIONS) keep the cell's values.
 */
final class Specialization {
    private Specialization() {
    }

    /** Loads and links what the first invocation would otherwise: Jackson's readers and writers for maps, strings and beans. */
    static void warmUp() {
        try {
            byte[] sample = "{\"a\":[1,2.5,\"x\",true,null,{\"b\":{}}],\"s\":\"\\u00e9\"}".getBytes(java.nio.charset.StandardCharsets.UTF_8);
            Object map = Json.readerFor(Map.class).readValue(sample);
            Json.readerFor(String.class).readValue("\"s\"".getBytes(java.nio.charset.StandardCharsets.UTF_8));
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            Json.writerFor(Object.class).writeValue(out, map);
            Json.writerFor(Object.class).writeValue(out, new WarmBean());
            Json.readerFor(WarmBean.class).readValue("{\"name\":\"n\",\"count\":1}".getBytes(java.nio.charset.StandardCharsets.UTF_8));
            ErrorDocument.of(new IllegalStateException("warm"));
        } catch (Exception e) {
            // Only a head start; the first invocation does the same work if this did not.
        }
    }

    /** Public so that Jackson's bean introspection can reach it. */
    public static final class WarmBean {
        private String name = "n";
        private int count;

        public String getName() {
            return name;
        }

        public void setName(String name) {
            this.name = name;
        }

        public int getCount() {
            return count;
        }

        public void setCount(int count) {
            this.count = count;
        }
    }

    /** Merges the answer's "environment" into the process environment. */
    static void apply(byte[] answer) throws Exception {
        JsonNode parsed = Json.MAPPER.readTree(answer);
        JsonNode environment = parsed == null ? null : parsed.get("environment");
        Map<String, String> vars = new LinkedHashMap<>();
        if (environment != null && environment.isObject()) {
            environment.fields().forEachRemaining(e -> vars.put(e.getKey(), e.getValue().asText()));
        }
        writableEnvironment().putAll(vars);
        String tz = vars.get("TZ");
        if (tz != null && !tz.isEmpty()) TimeZone.setDefault(TimeZone.getTimeZone(tz.startsWith(":") ? tz.substring(1) : tz));
    }

    /**
     * The modifiable map behind System.getenv() (java.lang.ProcessEnvironment on Unix), read
     * through Unsafe so that java.base need not be opened to the runtime: an --add-opens would
     * also switch off the archived module graph that makes every JVM start faster.
     */
    @SuppressWarnings("unchecked")
    private static Map<String, String> writableEnvironment() throws Exception {
        Map<String, String> unmodifiable = System.getenv();
        Class<?> wrapper = Collections.unmodifiableMap(Map.of()).getClass();
        if (!wrapper.isInstance(unmodifiable)) throw new IllegalStateException("System.getenv() is a " + unmodifiable.getClass().getName());
        // jdk.unsupported's sun.misc.Unsafe, looked up by name: it is not part of the API javac compiles against.
        Class<?> unsafeClass = Class.forName("sun.misc.Unsafe");
        Field theUnsafe = unsafeClass.getDeclaredField("theUnsafe");
        theUnsafe.setAccessible(true);
        Object unsafe = theUnsafe.get(null);
        long offset = (Long) unsafeClass.getMethod("objectFieldOffset", Field.class).invoke(unsafe, wrapper.getDeclaredField("m"));
        return (Map<String, String>) unsafeClass.getMethod("getObject", Object.class, long.class).invoke(unsafe, unmodifiable, offset);
    }
}
