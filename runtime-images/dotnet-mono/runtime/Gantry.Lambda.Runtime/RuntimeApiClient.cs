using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Net.Sockets;
using System.Text;
using System.Threading;

namespace Gantry.Lambda.Runtime
{
    /// <summary>A Runtime API call failed. Fatal: the platform is gone or broken, and the runtime exits.</summary>
    internal sealed class RuntimeApiException : Exception
    {
        public RuntimeApiException(string message, bool fatal) : base(message)
        {
            Fatal = fatal;
        }

        public bool Fatal { get; private set; }
    }

    internal sealed class Invocation
    {
        public string RequestId;
        public byte[] Body;
        public int BodyLength;
        public Dictionary<string, string> Headers;
    }

    /// <summary>Where the Runtime API listens: a unix socket (Gantry's transport) or host:port.</summary>
    internal sealed class RuntimeApiTarget
    {
        public string SocketPath;
        public string Host;
        public int Port;

        public override string ToString()
        {
            return SocketPath ?? (Host + ":" + Port);
        }
    }

    /// <summary>
    /// The Lambda Runtime API (/2018-06-01) over one kept-alive HTTP/1.1 connection. Bodies go out
    /// with Content-Length, never chunked; answers may be either. `next` is a long poll with no
    /// timeout; posts are bounded.
    /// </summary>
    internal sealed class RuntimeApiClient : IDisposable
    {
        private const string ApiPrefix = "/2018-06-01";
        private const int PostTimeoutMs = 60000;
        private const int ConnectRetryWindowMs = 2000;
        private const int ConnectRetryIntervalMs = 25;
        private const int MaxHeaderBytes = 64 * 1024;
        /// <summary>More than the platform accepts for any body; a longer answer is not the platform's.</summary>
        private const int MaxAnswerBytes = 16 * 1024 * 1024;

        private readonly RuntimeApiTarget _target;
        private Socket _socket;
        private BufferedStream _stream;

        public RuntimeApiClient(RuntimeApiTarget target)
        {
            _target = target;
        }

        public Invocation Next()
        {
            string path = ApiPrefix + "/runtime/invocation/next";
            var answer = Request("GET", path, null, 0, null, 0);
            if (answer.Status != 200) throw new RuntimeApiException("GET " + path + " answered " + answer.Status + ": " + answer.Snippet(), true);
            string requestId;
            if (!answer.Headers.TryGetValue("lambda-runtime-aws-request-id", out requestId) || requestId.Length == 0)
                throw new RuntimeApiException("GET " + path + " answered 200 without Lambda-Runtime-Aws-Request-Id", true);
            return new Invocation { RequestId = requestId, Body = answer.Body, BodyLength = answer.BodyLength, Headers = answer.Headers };
        }

        /// <summary>Stem cells only: blocks until the platform assigns a function; its environment.</summary>
        public Dictionary<string, string> Specialize()
        {
            const string path = "/gantry/v1/specialize";
            var answer = Request("GET", path, null, 0, null, 0);
            if (answer.Status != 200) throw new RuntimeApiException("GET " + path + " answered " + answer.Status + ": " + answer.Snippet(), true);
            object parsed;
            try
            {
                parsed = Json.Parse(Encoding.UTF8.GetString(answer.Body, 0, answer.BodyLength));
            }
            catch (FormatException e)
            {
                throw new RuntimeApiException("GET " + path + " answered a body that is not JSON: " + e.Message, true);
            }
            var result = new Dictionary<string, string>();
            var doc = parsed as Dictionary<string, object>;
            object environment;
            if (doc != null && doc.TryGetValue("environment", out environment) && environment is Dictionary<string, object>)
            {
                foreach (var kv in (Dictionary<string, object>)environment)
                    result[kv.Key] = kv.Value == null ? "" : Convert.ToString(kv.Value, CultureInfo.InvariantCulture);
            }
            return result;
        }

        public void PostResponse(string requestId, byte[] body, int length, string contentType)
        {
            Post(ApiPrefix + "/runtime/invocation/" + Uri.EscapeDataString(requestId) + "/response", body, length,
                new[] { "Content-Type", contentType });
        }

        public void PostError(string requestId, byte[] errorJson, string errorType)
        {
            Post(ApiPrefix + "/runtime/invocation/" + Uri.EscapeDataString(requestId) + "/error", errorJson, errorJson.Length,
                new[] { "Content-Type", "application/json", "Lambda-Runtime-Function-Error-Type", HeaderSafe(errorType) });
        }

        public void PostInitError(byte[] errorJson, string errorType)
        {
            Post(ApiPrefix + "/runtime/init/error", errorJson, errorJson.Length,
                new[] { "Content-Type", "application/json", "Lambda-Runtime-Function-Error-Type", HeaderSafe(errorType) });
        }

        public void Dispose()
        {
            Close();
        }

        /// <summary>2xx: done. 4xx: the platform refused this post (stale id, answered, too large), not fatal. Else fatal.</summary>
        private void Post(string path, byte[] body, int length, string[] headers)
        {
            var answer = Request("POST", path, body, length, headers, PostTimeoutMs);
            if (answer.Status >= 200 && answer.Status < 300) return;
            throw new RuntimeApiException("POST " + path + " answered " + answer.Status + ": " + answer.Snippet(), answer.Status >= 500 || answer.Status < 400);
        }

        private static string HeaderSafe(string value)
        {
            var sb = new StringBuilder(value.Length);
            foreach (char c in value) sb.Append(c >= 0x21 && c <= 0x7e ? c : '_');
            return sb.Length == 0 ? "Unhandled" : sb.ToString();
        }

        private Answer Request(string method, string path, byte[] body, int length, string[] headers, int timeoutMs)
        {
            int deadline = Environment.TickCount + ConnectRetryWindowMs;
            while (true)
            {
                bool reused = _socket != null;
                try
                {
                    if (!reused) Connect();
                }
                catch (SocketException e)
                {
                    bool retryable = e.SocketErrorCode == SocketError.ConnectionRefused || e.SocketErrorCode == SocketError.AddressNotAvailable
                        || e.SocketErrorCode == SocketError.HostNotFound || (_target.SocketPath != null && !File.Exists(_target.SocketPath));
                    Close();
                    if (!retryable || Environment.TickCount - deadline >= 0)
                        throw new RuntimeApiException(method + " " + path + " failed: cannot connect to " + _target + ": " + e.Message, true);
                    Thread.Sleep(ConnectRetryIntervalMs);
                    continue;
                }
                try
                {
                    return Exchange(method, path, body, length, headers, timeoutMs);
                }
                catch (Exception e) when (e is IOException || e is SocketException || e is ObjectDisposedException)
                {
                    Close();
                    // A kept-alive connection the platform closed meanwhile: one fresh attempt.
                    if (reused) continue;
                    throw new RuntimeApiException(method + " " + path + " failed: " + e.Message, true);
                }
            }
        }

        private void Connect()
        {
            Socket socket;
            if (_target.SocketPath != null)
            {
                socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try { socket.Connect(new UnixSocketEndPoint(_target.SocketPath)); }
                catch { socket.Close(); throw; }
            }
            else
            {
                socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                try { socket.Connect(_target.Host, _target.Port); socket.NoDelay = true; }
                catch { socket.Close(); throw; }
            }
            _socket = socket;
            _stream = new BufferedStream(new NetworkStream(socket, true), 64 * 1024);
        }

        private void Close()
        {
            if (_stream != null) { try { _stream.Dispose(); } catch (Exception) { } }
            if (_socket != null) { try { _socket.Close(); } catch (Exception) { } }
            _stream = null;
            _socket = null;
        }

        private Answer Exchange(string method, string path, byte[] body, int length, string[] headers, int timeoutMs)
        {
            _socket.ReceiveTimeout = timeoutMs;
            _socket.SendTimeout = timeoutMs;
            var head = new StringBuilder(256);
            head.Append(method).Append(' ').Append(path).Append(" HTTP/1.1\r\nHost: localhost\r\nUser-Agent: gantry-dotnet-mono\r\n");
            if (headers != null)
                for (int i = 0; i + 1 < headers.Length; i += 2) head.Append(headers[i]).Append(": ").Append(headers[i + 1]).Append("\r\n");
            if (body != null) head.Append("Content-Length: ").Append(length.ToString(CultureInfo.InvariantCulture)).Append("\r\n");
            head.Append("\r\n");
            byte[] headBytes = Encoding.ASCII.GetBytes(head.ToString());
            _stream.Write(headBytes, 0, headBytes.Length);
            if (body != null && length > 0) _stream.Write(body, 0, length);
            _stream.Flush();
            var answer = ReadAnswer();
            if (answer.Close) Close();
            return answer;
        }

        private Answer ReadAnswer()
        {
            string statusLine = ReadLine();
            string[] parts = statusLine.Split(' ');
            int status;
            if (parts.Length < 2 || !parts[0].StartsWith("HTTP/1.", StringComparison.Ordinal) || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out status))
                throw new IOException("bad status line from the Runtime API: " + statusLine);
            var headers = new Dictionary<string, string>(StringComparer.Ordinal);
            int headerBytes = 0;
            while (true)
            {
                string line = ReadLine();
                if (line.Length == 0) break;
                headerBytes += line.Length;
                if (headerBytes > MaxHeaderBytes) throw new IOException("Runtime API answer headers too large");
                int colon = line.IndexOf(':');
                if (colon <= 0) continue;
                headers[line.Substring(0, colon).Trim().ToLowerInvariant()] = line.Substring(colon + 1).Trim();
            }
            var answer = new Answer { Status = status, Headers = headers };
            string value;
            answer.Close = (headers.TryGetValue("connection", out value) && value.Equals("close", StringComparison.OrdinalIgnoreCase)) || parts[0] == "HTTP/1.0";
            if (headers.TryGetValue("transfer-encoding", out value) && value.IndexOf("chunked", StringComparison.OrdinalIgnoreCase) >= 0)
            {
                ReadChunked(answer);
            }
            else if (headers.TryGetValue("content-length", out value))
            {
                long declared;
                if (!long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out declared) || declared > MaxAnswerBytes)
                    throw new IOException("bad Content-Length from the Runtime API: " + value);
                answer.Body = new byte[declared];
                answer.BodyLength = (int)declared;
                ReadExactly(answer.Body, 0, answer.BodyLength);
            }
            else
            {
                answer.Body = new byte[0];
                if (answer.Close) ReadToEnd(answer);
            }
            return answer;
        }

        private void ReadChunked(Answer answer)
        {
            var buffer = new MemoryStream();
            while (true)
            {
                string sizeLine = ReadLine();
                int semicolon = sizeLine.IndexOf(';');
                if (semicolon >= 0) sizeLine = sizeLine.Substring(0, semicolon);
                int size;
                if (!int.TryParse(sizeLine.Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out size) || size < 0 || buffer.Length + size > MaxAnswerBytes)
                    throw new IOException("bad chunk size from the Runtime API: " + sizeLine);
                if (size == 0)
                {
                    while (ReadLine().Length > 0) { }
                    break;
                }
                var chunk = new byte[size];
                ReadExactly(chunk, 0, size);
                buffer.Write(chunk, 0, size);
                ReadLine();
            }
            answer.Body = buffer.GetBuffer();
            answer.BodyLength = (int)buffer.Length;
        }

        private void ReadToEnd(Answer answer)
        {
            var buffer = new MemoryStream();
            var chunk = new byte[8192];
            int n;
            while ((n = _stream.Read(chunk, 0, chunk.Length)) > 0)
            {
                buffer.Write(chunk, 0, n);
                if (buffer.Length > MaxAnswerBytes) throw new IOException("Runtime API answer too large");
            }
            answer.Body = buffer.GetBuffer();
            answer.BodyLength = (int)buffer.Length;
        }

        private void ReadExactly(byte[] into, int offset, int count)
        {
            while (count > 0)
            {
                int n = _stream.Read(into, offset, count);
                if (n <= 0) throw new IOException("the Runtime API closed the connection mid-answer");
                offset += n;
                count -= n;
            }
        }

        private string ReadLine()
        {
            var sb = new StringBuilder();
            while (true)
            {
                int b = _stream.ReadByte();
                if (b < 0) throw new IOException("the Runtime API closed the connection");
                if (b == '\n') break;
                if (b != '\r') sb.Append((char)b);
                if (sb.Length > MaxHeaderBytes) throw new IOException("Runtime API answer line too long");
            }
            return sb.ToString();
        }

        private sealed class Answer
        {
            public int Status;
            public Dictionary<string, string> Headers;
            public byte[] Body;
            public int BodyLength;
            public bool Close;

            public string Snippet()
            {
                int n = Math.Min(BodyLength, 200);
                return Body == null ? "" : Encoding.UTF8.GetString(Body, 0, n);
            }
        }
    }
}
