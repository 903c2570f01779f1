package gantry.runtime;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.net.URLEncoder;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Lambda Runtime API client (compat.md 1.1-1.3) over the container's unix socket (Gantry's own
 * transport) or host:port TCP (AWS_LAMBDA_RUNTIME_API). HTTP/1.1 on one kept-alive connection;
 * bodies go with Content-Length, never chunked. {@code next} and {@code specialize} are long polls
 * without a timeout; posts are bounded by a watchdog that closes the connection.
 */
final class RuntimeApiClient {
    static final String API_PREFIX = "/2018-06-01";
    private static final long POST_TIMEOUT_MS = 60_000;
    private static final long INIT_ERROR_TIMEOUT_MS = 10_000;
    private static final long CONNECT_RETRY_WINDOW_MS = 2_000;
    private static final long CONNECT_RETRY_INTERVAL_MS = 25;
    /** No header block from the platform is this large; a longer one is a broken peer. */
    private static final int MAX_HEADER_BYTES = 64 * 1024;

    /** A Runtime API call failed; {@code fatal} means the platform is gone or broken. */
    static final class ApiException extends IOException {
        private static final long serialVersionUID = 1L;
        final int status;
        final boolean fatal;

        ApiException(String message, int status, boolean fatal) {
            super(message);
            this.status = status;
            this.fatal = fatal;
        }
    }

    static final class Response {
        final int status;
        final Map<String, String> headers;
        final byte[] body;

        Response(int status, Map<String, String> headers, byte[] body) {
            this.status = status;
            this.headers = headers;
            this.body = body;
        }
    }

    private final SocketAddress address;
    private final String hostHeader;
    private final ScheduledExecutorService watchdog = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "gantry-runtime-api-watchdog");
        t.setDaemon(true);
        return t;
    });
    private SocketChannel channel;
    private InputStream in;
    private OutputStream out;

    private RuntimeApiClient(SocketAddress address, String hostHeader) {
        this.address = address;
        this.hostHeader = hostHeader;
    }

    /**
     * Where the Runtime API is: an explicit socket path (argv) wins; else GANTRY_RUNTIME_API_SOCKET;
     * else AWS_LAMBDA_RUNTIME_API (host:port) when the default socket does not exist; else the
     * default socket.
     */
    static RuntimeApiClient resolve(String argvSocket, Map<String, String> env, String defaultSocket) {
        if (argvSocket != null && !argvSocket.isEmpty()) return unix(argvSocket);
        String fromEnv = env.get("GANTRY_RUNTIME_API_SOCKET");
        if (fromEnv != null && !fromEnv.isEmpty()) return unix(fromEnv);
        String api = env.get("AWS_LAMBDA_RUNTIME_API");
        if (api != null && !api.isEmpty() && !Files.exists(Path.of(defaultSocket))) {
            int colon = api.lastIndexOf(':');
            String host = colon < 0 ? api : api.substring(0, colon);
            int port = colon < 0 ? 80 : Integer.parseInt(api.substring(colon + 1));
            host = host.replace("[", "").replace("]", "");
            return new RuntimeApiClient(new InetSocketAddress(host, port), api);
        }
        return unix(defaultSocket);
    }

    private static RuntimeApiClient unix(String path) {
        return new RuntimeApiClient(UnixDomainSocketAddress.of(path), "localhost");
    }

    Response next() throws ApiException {
        String path = API_PREFIX + "/runtime/invocation/next";
        Response r = request("GET", path, null, Map.of(), 0);
        if (r.status != 200) throw new ApiException("GET " + path + " answered " + r.status + ": " + snippet(r.body), r.status, true);
        String id = r.headers.get("lambda-runtime-aws-request-id");
        if (id == null || id.isEmpty()) throw new ApiException("GET " + path + " answered 200 without Lambda-Runtime-Aws-Request-Id", r.status, true);
        return r;
    }

    /** Stem cells only: blocks until the platform assigns a function; the body is its JSON. */
    byte[] specialize() throws ApiException {
        String path = "/gantry/v1/specialize";
        Response r = request("GET", path, null, Map.of(), 0);
        if (r.status != 200) throw new ApiException("GET " + path + " answered " + r.status + ": " + snippet(r.body), r.status, true);
        return r.body;
    }

    void postResponse(String requestId, byte[] body) throws ApiException {
        post(API_PREFIX + "/runtime/invocation/" + quote(requestId) + "/response", body, Map.of("Content-Type", "application/json"), POST_TIMEOUT_MS);
    }

    void postError(String requestId, byte[] errorJson, String errorType) throws ApiException {
        post(API_PREFIX + "/runtime/invocation/" + quote(requestId) + "/error", errorJson,
                Map.of("Content-Type", "application/json", "Lambda-Runtime-Function-Error-Type", errorType), POST_TIMEOUT_MS);
    }

    void postInitError(byte[] errorJson, String errorType) throws ApiException {
        post(API_PREFIX + "/runtime/init/error", errorJson,
                Map.of("Content-Type", "application/json", "Lambda-Runtime-Function-Error-Type", errorType), INIT_ERROR_TIMEOUT_MS);
    }

    /** 2xx: done. 4xx: the platform refused this post (stale id, already answered, too large), not fatal. */
    private void post(String path, byte[] body, Map<String, String> headers, long timeoutMs) throws ApiException {
        Response r = request("POST", path, body, headers, timeoutMs);
        if (r.status >= 200 && r.status < 300) return;
        throw new ApiException("POST " + path + " answered " + r.status + ": " + snippet(r.body), r.status, r.status >= 500);
    }

    private Response request(String method, String path, byte[] body, Map<String, String> headers, long timeoutMs) throws ApiException {
        boolean reused = channel != null;
        if (!reused) connect(method, path);
        try {
            return exchange(method, path, body, headers, timeoutMs);
        } catch (IOException first) {
            close();
            // A kept-alive connection the platform closed meanwhile: one fresh attempt, but only
            // when nothing of the answer arrived (the request may not have reached the platform).
            if (reused && first instanceof EOFException) {
                try {
                    connect(method, path);
                    return exchange(method, path, body, headers, timeoutMs);
                } catch (IOException second) {
                    close();
                    throw new ApiException(method + " " + path + " failed: " + second.getMessage(), 0, true);
                }
            }
            throw new ApiException(method + " " + path + " failed: " + first.getMessage(), 0, true);
        }
    }

    private void connect(String method, String path) throws ApiException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(CONNECT_RETRY_WINDOW_MS);
        while (true) {
            SocketChannel ch = null;
            try {
                ch = address instanceof UnixDomainSocketAddress ? SocketChannel.open(StandardProtocolFamily.UNIX) : SocketChannel.open();
                ch.connect(address);
                channel = ch;
                in = new BufferedInputStream(Channels.newInputStream(ch), 64 * 1024);
                out = Channels.newOutputStream(ch);
                return;
            } catch (IOException e) {
                closeQuietly(ch);
                // The platform's socket may not be listening yet; anything else, or too long, is fatal.
                if (System.nanoTime() >= deadline) {
                    throw new ApiException(method + " " + path + " failed: cannot connect: " + e.getMessage(), 0, true);
                }
                try {
                    Thread.sleep(CONNECT_RETRY_INTERVAL_MS);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw new ApiException(method + " " + path + " interrupted", 0, true);
                }
            }
        }
    }

    private Response exchange(String method, String path, byte[] body, Map<String, String> headers, long timeoutMs) throws IOException {
        SocketChannel ch = channel;
        ScheduledFuture<?> timer = timeoutMs > 0 ? watchdog.schedule(() -> closeQuietly(ch), timeoutMs, TimeUnit.MILLISECONDS) : null;
        try {
            StringBuilder head = new StringBuilder(256);
            head.append(method).append(' ').append(path).append(" HTTP/1.1\r\nHost: ").append(hostHeader).append("\r\n");
            for (Map.Entry<String, String> h : headers.entrySet()) head.append(h.getKey()).append(": ").append(h.getValue()).append("\r\n");
            if (body != null) head.append("Content-Length: ").append(body.length).append("\r\n");
            head.append("\r\n");
            out.write(head.toString().getBytes(StandardCharsets.ISO_8859_1));
            if (body != null) out.write(body);
            out.flush();
            return readResponse();
        } finally {
            if (timer != null) timer.cancel(false);
        }
    }

    private Response readResponse() throws IOException {
        String statusLine = readLine(true);
        String[] parts = statusLine.split(" ", 3);
        if (parts.length < 2 || !parts[0].startsWith("HTTP/1.")) throw new IOException("bad status line: " + statusLine);
        int status;
        try {
            status = Integer.parseInt(parts[1]);
        } catch (NumberFormatException e) {
            throw new IOException("bad status line: " + statusLine);
        }
        Map<String, String> headers = new HashMap<>();
        int headerBytes = 0;
        while (true) {
            String line = readLine(false);
            headerBytes += line.length() + 2;
            if (headerBytes > MAX_HEADER_BYTES) throw new IOException("header block over " + MAX_HEADER_BYTES + " bytes");
            if (line.isEmpty()) break;
            int colon = line.indexOf(':');
            if (colon <= 0) continue;
            headers.put(line.substring(0, colon).trim().toLowerCase(Locale.ROOT), line.substring(colon + 1).trim());
        }
        byte[] body;
        String te = headers.get("transfer-encoding");
        if (te != null && te.toLowerCase(Locale.ROOT).contains("chunked")) {
            body = readChunked();
        } else {
            String cl = headers.get("content-length");
            int length = cl == null ? 0 : Integer.parseInt(cl);
            body = in.readNBytes(length);
            if (body.length != length) throw new IOException("connection closed in the body");
        }
        String connection = headers.get("connection");
        if (connection != null && connection.equalsIgnoreCase("close")) close();
        return new Response(status, headers, body);
    }

    private byte[] readChunked() throws IOException {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        while (true) {
            String sizeLine = readLine(false);
            int semi = sizeLine.indexOf(';');
            int size = Integer.parseInt((semi < 0 ? sizeLine : sizeLine.substring(0, semi)).trim(), 16);
            if (size == 0) {
                while (!readLine(false).isEmpty()) {
                    // trailers: ignored
                }
                return buf.toByteArray();
            }
            byte[] chunk = in.readNBytes(size);
            if (chunk.length != size) throw new IOException("connection closed in a chunk");
            buf.write(chunk);
            readLine(false);
        }
    }

    /** One CRLF-terminated line; EOF before its first byte is an EOFException when {@code first}. */
    private String readLine(boolean first) throws IOException {
        StringBuilder sb = new StringBuilder(64);
        while (true) {
            int b = in.read();
            if (b < 0) {
                if (first && sb.length() == 0) throw new EOFException("connection closed by the platform");
                throw new IOException("connection closed mid-answer");
            }
            if (b == '\n') {
                int n = sb.length();
                if (n > 0 && sb.charAt(n - 1) == '\r') sb.setLength(n - 1);
                return sb.toString();
            }
            if (sb.length() > MAX_HEADER_BYTES) throw new IOException("line over " + MAX_HEADER_BYTES + " bytes");
            sb.append((char) b);
        }
    }

    void close() {
        closeQuietly(channel);
        channel = null;
        in = null;
        out = null;
    }

    private static void closeQuietly(SocketChannel ch) {
        if (ch == null) return;
        try {
            ch.close();
        } catch (IOException ignored) {
            // already gone
        }
    }

    private static String quote(String requestId) {
        return URLEncoder.encode(requestId, StandardCharsets.UTF_8).replace("+", "%20");
    }

    private static String snippet(byte[] body) {
        String s = new String(body, StandardCharsets.UTF_8);
        return s.length() <= 200 ? s : s.substring(0, 200) + "...";
    }
}
