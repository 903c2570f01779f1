package gantry.runtime;

import java.io.File;
import java.io.IOException;
import java.net.URL;
import java.net.URLClassLoader;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The function's classes: the task root, then its lib/*.jar, then *.jar at the task root (a zip
 * that holds one jar), each group in name order, then /opt/java/lib/*.jar (layers).
 *
 * Its parent shows the function only the JDK and the runtime's copy of aws-lambda-java-core's
 * classes (com.amazonaws.services.lambda.runtime.*). Those come parent-first, so a function that
 * bundles aws-lambda-java-core still gets the runtime's Context, RequestHandler and
 * RequestStreamHandler: one class each, which the runtime's Context object implements and the
 * runtime's instanceof checks see. Everything else of the runtime (its Jackson, its own classes)
 * is hidden, so the function's own libraries, whatever their versions, are the ones it gets. A
 * class of that package the runtime does not ship (a newer library's addition, the events and
 * serialization packages) is found in the function's jars.
 */
final class UserClassLoader extends URLClassLoader {
    static {
        ClassLoader.registerAsParallelCapable();
    }

    static final String API_PACKAGE = "com.amazonaws.services.lambda.runtime.";

    UserClassLoader(String taskRoot, ClassLoader runtimeLoader) throws IOException {
        // Unnamed, as on AWS: a named loader would prefix every frame of the function's stack traces.
        super(urls(taskRoot), new ApiOnly(runtimeLoader));
    }

    private static URL[] urls(String taskRoot) throws IOException {
        List<URL> urls = new ArrayList<>();
        File root = new File(taskRoot);
        urls.add(root.toURI().toURL());
        addJars(new File(root, "lib"), urls);
        addJars(root, urls);
        addJars(new File("/opt/java/lib"), urls);
        return urls.toArray(new URL[0]);
    }

    private static void addJars(File dir, List<URL> urls) throws IOException {
        String[] names = dir.list((d, name) -> name.length() > 4 && name.endsWith(".jar"));
        if (names == null) return;
        Arrays.sort(names);
        for (String name : names) {
            File f = new File(dir, name);
            if (f.isFile()) urls.add(f.toURI().toURL());
        }
    }

    /** The JDK plus the runtime's com.amazonaws.services.lambda.runtime classes, nothing else. */
    private static final class ApiOnly extends ClassLoader {
        static {
            ClassLoader.registerAsParallelCapable();
        }

        private final ClassLoader runtimeLoader;

        ApiOnly(ClassLoader runtimeLoader) {
            super("gantry-lambda-api", ClassLoader.getPlatformClassLoader());
            this.runtimeLoader = runtimeLoader;
        }

        @Override
        protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
            if (name.startsWith(API_PACKAGE)) {
                Class<?> c = runtimeLoader.loadClass(name);
                // Only what the runtime itself ships in that package; not a class that merely
                // happens to be on its class path.
                if (c.getClassLoader() == runtimeLoader) return c;
                throw new ClassNotFoundException(name);
            }
            return super.loadClass(name, resolve);
        }

        @Override
        public URL getResource(String name) {
            // Resources come from the JDK and the function, never from the runtime's class path.
            return getParent().getResource(name);
        }

        @Override
        public java.util.Enumeration<URL> getResources(String name) throws IOException {
            return getParent().getResources(name);
        }
    }
}
