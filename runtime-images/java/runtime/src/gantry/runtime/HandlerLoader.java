package gantry.runtime;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.RequestStreamHandler;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.ObjectWriter;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.lang.reflect.TypeVariable;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns _HANDLER into an Invoker, with AWS's Java runtime's rules:
 * - {@code pkg.Class::method}: the public method of that name whose signature fits, preferring
 *   non-bridge methods and longer signatures (a trailing Context counting one extra):
 *   (InputStream, OutputStream, Context), (InputStream, OutputStream), (InputStream|OutputStream, Context),
 *   (InputStream), (OutputStream), (Context), (T, Context), (T), (); T is read from the event as
 *   JSON into the parameter's declared type (String, Map, List, a POJO, a number …), and the
 *   result is written as JSON ("null" for void). Instance methods get one instance, made with the
 *   public no-argument constructor.
 * - {@code pkg.Class}: a RequestStreamHandler, or a RequestHandler<I, O> with concrete I and O.
 *
 * Outcomes: a missing class ("Class not found: …", java.lang.ClassNotFoundException), a missing
 * or unusable method or interface, a class without a public no-argument constructor are reported
 * on every invocation and the process keeps serving; a NoClassDefFoundError while loading the
 * class is reported at the first invocation, which then ends the process; a static initializer or
 * constructor that throws is an init error (thrown from {@link #load} as a fatal UserFault).
 */
final class HandlerLoader {
    private static final byte[] JSON_NULL = "null".getBytes(StandardCharsets.US_ASCII);

    private HandlerLoader() {
    }

    /** The class name and method of a handler string (method null for {@code pkg.Class}); null when malformed. */
    static String[] parse(String handler) {
        if (handler == null) return null;
        int colons = handler.lastIndexOf("::");
        String className = colons < 0 ? handler : handler.substring(0, colons);
        String method = colons < 0 ? null : handler.substring(colons + 2);
        if (className.isEmpty() || (method != null && method.isEmpty())) return null;
        return new String[] {className, method};
    }

    static Invoker load(String handler, ClassLoader loader) {
        String[] parsed = parse(handler);
        if (parsed == null) return Invoker.failing(UserFault.of("Invalid handler: `" + handler + "'"));
        String className = parsed[0];
        Class<?> clazz;
        try {
            clazz = Class.forName(className, true, loader);
        } catch (ClassNotFoundException e) {
            return Invoker.failing(new UserFault("Class not found: " + className, e.getClass().getName(), UserFault.trace(e), false));
        } catch (NoClassDefFoundError e) {
            return Invoker.failing(loadingFault(e, className));
        } catch (Throwable t) {
            throw loadingFault(t, className);
        }
        return parsed[1] == null ? forInterface(clazz) : forMethod(clazz, parsed[1]);
    }

    private static UserFault loadingFault(Throwable e, String className) {
        return new UserFault("Error loading class " + className + (e.getMessage() == null ? "" : ": " + e.getMessage()),
                e.getClass().getName(), UserFault.trace(e), true);
    }

    // ------------------------------------------------------------------ pkg.Class

    @SuppressWarnings({"rawtypes", "unchecked"})
    private static Invoker forInterface(Class<?> clazz) {
        if (RequestStreamHandler.class.isAssignableFrom(clazz)) {
            try {
                RequestStreamHandler h = (RequestStreamHandler) newInstance(constructor(clazz));
                return (event, out, context) -> h.handleRequest(new ByteArrayInputStream(event), out, context);
            } catch (UserFault f) {
                return failedOrFatal(f);
            } catch (Throwable t) {
                return Invoker.failing(UserFault.of(t, false));
            }
        }
        if (RequestHandler.class.isAssignableFrom(clazz)) {
            Type[] types = interfaceTypeArguments(clazz, RequestHandler.class);
            if (types == null) {
                return Invoker.failing(UserFault.of("Class " + clazz.getName() + " does not implement RequestHandler with concrete type parameters"));
            }
            for (Type t : types) {
                if (t instanceof TypeVariable && !hasBound((TypeVariable<?>) t)) {
                    return Invoker.failing(UserFault.of("Class " + clazz.getName()
                            + " does not implement RequestHandler with concrete type parameters: parameter " + t + " has no upper bound."));
                }
            }
            try {
                RequestHandler h = (RequestHandler) newInstance(constructor(clazz));
                return pojo(types[0], types[1], (input, context) -> h.handleRequest(input, context));
            } catch (UserFault f) {
                return failedOrFatal(f);
            } catch (Throwable t) {
                return Invoker.failing(UserFault.of(t, false));
            }
        }
        return Invoker.failing(UserFault.of("Class does not implement an appropriate handler interface: " + clazz.getName()));
    }

    private static boolean hasBound(TypeVariable<?> v) {
        for (Type b : v.getBounds()) if (!Object.class.equals(b)) return true;
        return false;
    }

    /** I and O of {@code iface<I, O>} as {@code clazz} implements it, type variables resolved where the hierarchy binds them. */
    static Type[] interfaceTypeArguments(Class<?> clazz, Class<?> iface) {
        Deque<Map.Entry<Type, Map<TypeVariable<?>, Type>>> queue = new ArrayDeque<>();
        queue.add(Map.entry(clazz, Map.of()));
        int visited = 0;
        while (!queue.isEmpty() && visited++ < 1_000) {
            Map.Entry<Type, Map<TypeVariable<?>, Type>> entry = queue.poll();
            Type type = entry.getKey();
            Map<TypeVariable<?>, Type> bindings = entry.getValue();
            Class<?> raw;
            Map<TypeVariable<?>, Type> here = new HashMap<>(bindings);
            if (type instanceof ParameterizedType) {
                ParameterizedType p = (ParameterizedType) type;
                raw = (Class<?>) p.getRawType();
                TypeVariable<?>[] vars = raw.getTypeParameters();
                Type[] args = p.getActualTypeArguments();
                for (int i = 0; i < vars.length && i < args.length; i++) here.put(vars[i], resolve(args[i], bindings));
                if (raw == iface) {
                    Type[] out = new Type[vars.length];
                    for (int i = 0; i < vars.length; i++) out[i] = here.get(vars[i]);
                    return out;
                }
            } else if (type instanceof Class) {
                raw = (Class<?>) type;
                if (raw == iface) return null; // implemented raw: no concrete types
            } else {
                continue;
            }
            for (Type i : raw.getGenericInterfaces()) queue.add(Map.entry(i, here));
            Type sup = raw.getGenericSuperclass();
            if (sup != null) queue.add(Map.entry(sup, here));
        }
        return null;
    }

    private static Type resolve(Type t, Map<TypeVariable<?>, Type> bindings) {
        return t instanceof TypeVariable && bindings.containsKey(t) ? bindings.get(t) : t;
    }

    // ------------------------------------------------------------------ pkg.Class::method

    private static boolean isContext(Class<?> c) {
        return c == Context.class;
    }

    private static int weight(Method m) {
        Class<?>[] p = m.getParameterTypes();
        return p.length + (p.length > 0 && isContext(p[p.length - 1]) ? 1 : 0);
    }

    private static Invoker forMethod(Class<?> clazz, String name) {
        Method[] all;
        try {
            all = clazz.getMethods();
        } catch (NoClassDefFoundError e) {
            return Invoker.failing(new UserFault("Error loading method " + name + " on class " + clazz.getName(), e.getClass().getName(), UserFault.trace(e), false));
        }
        List<Method> candidates = new ArrayList<>();
        for (Method m : all) if (m.getName().equals(name)) candidates.add(m);
        candidates.sort(Comparator.comparing(Method::isBridge).thenComparing(Comparator.comparingInt(HandlerLoader::weight).reversed()));
        for (Method m : candidates) {
            Invoker inv = forSignature(clazz, m);
            if (inv != null) return inv;
        }
        return Invoker.failing(UserFault.of("No public method named " + name + " with appropriate method signature found on class " + clazz.getName()));
    }

    /** The invoker for one overload, or null when its signature is not one the runtime can call. */
    private static Invoker forSignature(Class<?> clazz, Method m) {
        Class<?>[] p = m.getParameterTypes();
        Type[] g = m.getGenericParameterTypes();
        Type r = m.getGenericReturnType();
        switch (p.length) {
            case 0:
                return pojoMethod(clazz, m, null, r, false);
            case 1:
                if (p[0] == InputStream.class) return streamMethod(clazz, m, true, false, false);
                if (p[0] == OutputStream.class) return streamMethod(clazz, m, false, true, false);
                if (isContext(p[0])) return pojoMethod(clazz, m, null, r, true);
                return pojoMethod(clazz, m, g[0], r, false);
            case 2:
                if (p[0] == OutputStream.class) return isContext(p[1]) ? streamMethod(clazz, m, false, true, true) : null;
                if (isContext(p[0])) return null;
                if (p[0] == InputStream.class) {
                    if (p[1] == OutputStream.class) return streamMethod(clazz, m, true, true, false);
                    if (isContext(p[1])) return streamMethod(clazz, m, true, false, true);
                    return null;
                }
                return isContext(p[1]) ? pojoMethod(clazz, m, g[0], r, true) : null;
            case 3:
                return p[0] == InputStream.class && p[1] == OutputStream.class && isContext(p[2]) ? streamMethod(clazz, m, true, true, true) : null;
            default:
                return null;
        }
    }

    private static Object instanceFor(Class<?> clazz, Method m) throws Throwable {
        return Modifier.isStatic(m.getModifiers()) ? null : newInstance(constructor(clazz));
    }

    private static Invoker pojoMethod(Class<?> clazz, Method m, Type input, Type output, boolean wantsContext) {
        try {
            Object target = instanceFor(clazz, m);
            Call call = (event, context) -> {
                Object[] args = new Object[(input != null ? 1 : 0) + (wantsContext ? 1 : 0)];
                int i = 0;
                if (input != null) args[i++] = event;
                if (wantsContext) args[i] = context;
                return invokeMethod(m, target, args);
            };
            return pojo(input, isVoid(output) ? null : output, call);
        } catch (UserFault f) {
            return failedOrFatal(f);
        } catch (Throwable t) {
            return Invoker.failing(UserFault.of(t, false));
        }
    }

    private static Invoker streamMethod(Class<?> clazz, Method m, boolean wantsIn, boolean wantsOut, boolean wantsContext) {
        try {
            Object target = instanceFor(clazz, m);
            return (event, out, context) -> {
                Object[] args = new Object[(wantsIn ? 1 : 0) + (wantsOut ? 1 : 0) + (wantsContext ? 1 : 0)];
                int i = 0;
                if (wantsIn) args[i++] = new ByteArrayInputStream(event);
                if (wantsOut) args[i++] = out;
                if (wantsContext) args[i] = context;
                invokeMethod(m, target, args);
            };
        } catch (UserFault f) {
            return failedOrFatal(f);
        } catch (Throwable t) {
            return Invoker.failing(UserFault.of(t, false));
        }
    }

    private static Object invokeMethod(Method m, Object target, Object[] args) throws Throwable {
        try {
            return m.invoke(target, args);
        } catch (InvocationTargetException e) {
            throw e.getCause() != null ? e.getCause() : e;
        }
    }

    private static boolean isVoid(Type t) {
        return t == void.class || t == Void.class;
    }

    // ------------------------------------------------------------------ JSON in and out

    interface Call {
        Object call(Object input, Context context) throws Throwable;
    }

    /** The event read as {@code input} (none when null), the result written as {@code output} ("null" when null). */
    private static Invoker pojo(Type input, Type output, Call call) {
        // Readers and writers are made once, at load: nothing per invocation but the (de)serialisation.
        ObjectReader reader = input == null ? null : Json.readerFor(input);
        ObjectWriter writer = output == null || isVoid(output) ? null : Json.writerFor(output);
        return (event, out, context) -> {
            Object value = null;
            if (reader != null) {
                try {
                    value = reader.readValue(event);
                } catch (Throwable t) {
                    throw new RuntimeException("An error occurred during JSON parsing", UserFault.withoutRuntimeFrames(t));
                }
            }
            Object result = call.call(value, context);
            if (writer == null) {
                out.write(JSON_NULL);
                return;
            }
            try {
                writer.writeValue(out, result);
            } catch (Throwable t) {
                throw new RuntimeException("An error occurred during JSON serialization of response", t);
            }
        };
    }

    // ------------------------------------------------------------------ instances

    private static Constructor<?> constructor(Class<?> clazz) throws Exception {
        try {
            return clazz.getConstructor();
        } catch (NoSuchMethodException e) {
            if (clazz.getEnclosingClass() != null && !Modifier.isStatic(clazz.getModifiers())) {
                throw new Exception("Class " + clazz.getName() + " cannot be instantiated because it is a non-static inner class");
            }
            throw new Exception("Class " + clazz.getName() + " has no public zero-argument constructor", e);
        }
    }

    /** A constructor that throws is an init error: a fatal fault with the constructor's exception. */
    private static Object newInstance(Constructor<?> c) throws Throwable {
        try {
            return c.newInstance();
        } catch (InvocationTargetException e) {
            throw UserFault.of(e.getCause() == null ? e : e.getCause(), true);
        }
    }

    /** A fatal fault found while loading is thrown (an init error); any other is reported per invocation. */
    private static Invoker failedOrFatal(UserFault f) {
        if (f.fatal) throw f;
        return Invoker.failing(f);
    }
}
