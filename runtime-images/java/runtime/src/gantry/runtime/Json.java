package gantry.runtime;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.lang.reflect.Type;

/**
 * The event and result (de)serialisation, configured as AWS's Java runtime configures its Jackson:
 * unknown properties ignored, nulls left out of results, lenient reading (single quotes, unquoted
 * names, control characters), java.time and Optional support when Debian's Java 8 modules are
 * present. This Jackson is the runtime's own and invisible to the function's classes (see
 * UserClassLoader), so a function bundling another Jackson neither clashes with it nor configures
 * it through annotations: the same as on AWS, whose runtime shades its copy.
 *
 * Classes of aws-lambda-java-events (com.amazonaws.services.lambda.runtime.events) get a mapper
 * that matches property names case-insensitively, since their JSON says "Records" where the bean
 * says records.
 */
final class Json {
    static final ObjectMapper MAPPER = build(false);
    private static final String EVENTS_PACKAGE = "com.amazonaws.services.lambda.runtime.events.";

    private Json() {
    }

    /** Built on first use: most functions never read an aws-lambda-java-events class. */
    private static final class Events {
        static final ObjectMapper MAPPER = build(true);
    }

    private static ObjectMapper build(boolean caseInsensitive) {
        JsonFactory factory = JsonFactory.builder()
                .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
                .enable(JsonReadFeature.ALLOW_LEADING_ZEROS_FOR_NUMBERS)
                .enable(JsonReadFeature.ALLOW_SINGLE_QUOTES)
                .enable(JsonReadFeature.ALLOW_BACKSLASH_ESCAPING_ANY_CHARACTER)
                .enable(JsonReadFeature.ALLOW_UNESCAPED_CONTROL_CHARS)
                .enable(JsonReadFeature.ALLOW_UNQUOTED_FIELD_NAMES)
                .build();
        JsonMapper.Builder b = JsonMapper.builder(factory)
                .enable(MapperFeature.USE_STD_BEAN_NAMING)
                .disable(MapperFeature.AUTO_DETECT_CREATORS)
                .disable(MapperFeature.INFER_PROPERTY_MUTATORS)
                .disable(MapperFeature.USE_GETTERS_AS_SETTERS)
                .disable(SerializationFeature.FAIL_ON_EMPTY_BEANS)
                .disable(SerializationFeature.CLOSE_CLOSEABLE)
                .disable(SerializationFeature.FLUSH_AFTER_WRITE_VALUE)
                .enable(DeserializationFeature.ACCEPT_EMPTY_ARRAY_AS_NULL_OBJECT)
                .enable(DeserializationFeature.ACCEPT_EMPTY_STRING_AS_NULL_OBJECT)
                .enable(DeserializationFeature.ACCEPT_SINGLE_VALUE_AS_ARRAY)
                .enable(DeserializationFeature.READ_UNKNOWN_ENUM_VALUES_AS_NULL)
                .enable(DeserializationFeature.UNWRAP_SINGLE_VALUE_ARRAYS)
                .disable(DeserializationFeature.FAIL_ON_IGNORED_PROPERTIES)
                .disable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
                .disable(DeserializationFeature.FAIL_ON_NUMBERS_FOR_ENUMS)
                .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .serializationInclusion(JsonInclude.Include.NON_NULL);
        if (caseInsensitive) b.enable(MapperFeature.ACCEPT_CASE_INSENSITIVE_PROPERTIES);
        ObjectMapper mapper = b.build();
        registerIfPresent(mapper, "com.fasterxml.jackson.datatype.jsr310.JavaTimeModule");
        registerIfPresent(mapper, "com.fasterxml.jackson.datatype.jdk8.Jdk8Module");
        return mapper;
    }

    private static void registerIfPresent(ObjectMapper mapper, String moduleClass) {
        try {
            mapper.registerModule((com.fasterxml.jackson.databind.Module) Class.forName(moduleClass).getDeclaredConstructor().newInstance());
        } catch (ReflectiveOperationException | LinkageError e) {
            // not installed: those types are then (de)serialised as plain beans
        }
    }

    private static ObjectMapper mapperFor(Type type) {
        return type instanceof Class && ((Class<?>) type).getName().startsWith(EVENTS_PACKAGE) ? Events.MAPPER : MAPPER;
    }

    static ObjectReader readerFor(Type type) {
        ObjectMapper mapper = mapperFor(type);
        JavaType javaType = mapper.getTypeFactory().constructType(type);
        return mapper.readerFor(javaType);
    }

    static ObjectWriter writerFor(Type type) {
        ObjectMapper mapper = mapperFor(type);
        JavaType javaType = mapper.getTypeFactory().constructType(type);
        // Object (or a type variable) means "whatever the handler returned": look at the value.
        return javaType.getRawClass() == Object.class ? mapper.writer() : mapper.writerFor(javaType);
    }
}
