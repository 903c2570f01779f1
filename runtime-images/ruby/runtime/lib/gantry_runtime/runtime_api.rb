# frozen_string_literal: true

# The Lambda Runtime API client (compat.md §1.1-1.3) over the container's unix socket (Gantry's
# own transport) or host:port TCP (what stock clients use).
#
# Standard library only: one kept-alive HTTP/1.1 connection, written by hand because Net::HTTP
# cannot speak over a unix socket. Bodies go out with Content-Length, never chunked. `next` is a
# long poll without a timeout; every post is bounded.
require 'io/wait'
require 'json'
require 'socket'

module GantryRuntime
  # A Runtime API call failed. `fatal?` means the platform is gone or broken: the runtime exits.
  class RuntimeApiError < StandardError
    attr_reader :status

    def initialize(message, status: nil, fatal: true)
      super(message)
      @status = status
      @fatal = fatal
    end

    def fatal?
      @fatal
    end
  end

  Invocation = Struct.new(:request_id, :body, :headers)

  class RuntimeApi
    PREFIX = '/2018-06-01'
    POST_TIMEOUT_S = 60
    INIT_ERROR_TIMEOUT_S = 10
    # The platform's socket may not be listening yet at the very first request.
    CONNECT_RETRY_WINDOW_S = 2.0
    CONNECT_RETRY_INTERVAL_S = 0.025
    RETRYABLE_CONNECT_ERRORS = [Errno::ENOENT, Errno::ECONNREFUSED].freeze
    # Errors of a kept-alive connection the platform closed meanwhile: worth one fresh attempt.
    STALE_CONNECTION_ERRORS = [EOFError, Errno::ECONNRESET, Errno::EPIPE].freeze
    MAX_HEADER_BYTES = 1024 * 1024

    class ConnectFailed < StandardError
      attr_reader :cause_error

      def initialize(cause_error)
        super(cause_error.message)
        @cause_error = cause_error
      end
    end

    class ProtocolError < StandardError; end

    # Where the Runtime API is: an explicit socket path (argv) wins; else
    # $GANTRY_RUNTIME_API_SOCKET; else AWS_LAMBDA_RUNTIME_API (host:port) when the default socket
    # does not exist; else the default socket. [:unix, path] or [:tcp, host, port].
    def self.resolve_target(argv_socket_path, env, default_socket_path)
      return [:unix, argv_socket_path] if argv_socket_path && !argv_socket_path.empty?

      socket = env['GANTRY_RUNTIME_API_SOCKET']
      return [:unix, socket] if socket && !socket.empty?

      api = env['AWS_LAMBDA_RUNTIME_API']
      if api && !api.empty? && !File.exist?(default_socket_path)
        host, sep, port = api.rpartition(':')
        host, port = api, '80' if sep.empty?
        return [:tcp, host.delete('[]'), Integer(port, 10)]
      end
      [:unix, default_socket_path]
    end

    def initialize(target)
      @target = target
      @sock = nil
      @buf = +''.b
    end

    # Long-polls the next invocation. Any non-200, or a 200 without a request id, is fatal.
    def next_invocation
      path = "#{PREFIX}/runtime/invocation/next"
      status, headers, body = request('GET', path, nil, {}, nil)
      raise RuntimeApiError.new("GET #{path} answered #{status}: #{snippet(body)}", status: status) unless status == 200

      request_id = headers['lambda-runtime-aws-request-id']
      if request_id.nil? || request_id.empty?
        raise RuntimeApiError.new("GET #{path} answered 200 without Lambda-Runtime-Aws-Request-Id", status: status)
      end

      Invocation.new(request_id, body, headers)
    end

    # Stem cells only: blocks until the platform assigns a function, then returns the
    # environment it gives (handler, function name, the function's own variables, ...).
    def specialize
      path = '/gantry/v1/specialize'
      status, _headers, body = request('GET', path, nil, {}, nil)
      raise RuntimeApiError.new("GET #{path} answered #{status}: #{snippet(body)}", status: status) unless status == 200

      begin
        parsed = JSON.parse(body.dup.force_encoding(Encoding::UTF_8))
      rescue JSON::ParserError => e
        raise RuntimeApiError.new("GET #{path} answered a body that is not JSON: #{e.message}", status: status)
      end
      environment = parsed.is_a?(Hash) ? parsed['environment'] : nil
      environment.is_a?(Hash) ? environment.to_h { |k, v| [k.to_s, v.to_s] } : {}
    end

    def post_invocation_response(request_id, body, content_type)
      post("#{PREFIX}/runtime/invocation/#{escape(request_id)}/response", body, { 'Content-Type' => content_type })
    end

    def post_invocation_error(request_id, error_json, error_type)
      post("#{PREFIX}/runtime/invocation/#{escape(request_id)}/error", error_json,
           { 'Content-Type' => 'application/json', 'Lambda-Runtime-Function-Error-Type' => error_type })
    end

    def post_init_error(error_json, error_type)
      post("#{PREFIX}/runtime/init/error", error_json,
           { 'Content-Type' => 'application/json', 'Lambda-Runtime-Function-Error-Type' => error_type },
           INIT_ERROR_TIMEOUT_S)
    end

    def close
      @sock&.close
    rescue IOError, SystemCallError
      nil
    ensure
      @sock = nil
      @buf = +''.b
    end

    private

    # A 2xx is done; a 4xx (stale id, already answered, too large) is the platform refusing this
    # one post and deciding the invocation itself, so the runtime goes on; anything else is fatal.
    def post(path, body, headers, timeout = POST_TIMEOUT_S)
      status, _headers, answer = request('POST', path, body, headers, timeout)
      return if status >= 200 && status < 300

      raise RuntimeApiError.new("POST #{path} answered #{status}: #{snippet(answer)}",
                                status: status, fatal: !(400..499).cover?(status))
    end

    def request(method, path, body, headers, timeout)
      deadline = monotonic + CONNECT_RETRY_WINDOW_S
      begin
        request_once(method, path, body, headers, timeout, true)
      rescue ConnectFailed => e
        if RETRYABLE_CONNECT_ERRORS.any? { |k| e.cause_error.is_a?(k) } && monotonic < deadline
          sleep(CONNECT_RETRY_INTERVAL_S)
          retry
        end
        raise RuntimeApiError, "#{method} #{path} failed: cannot connect: #{e.message}"
      rescue IOError, SystemCallError, ProtocolError, SocketError => e
        raise RuntimeApiError, "#{method} #{path} failed: #{e.class}: #{e.message}"
      end
    end

    def request_once(method, path, body, headers, timeout, may_retry)
      reused = !@sock.nil?
      connect unless reused
      begin
        write_request(method, path, body, headers, timeout)
        read_response(timeout)
      rescue *STALE_CONNECTION_ERRORS
        close
        raise unless reused && may_retry

        request_once(method, path, body, headers, timeout, false)
      rescue Exception # rubocop:disable Lint/RescueException -- the connection is unusable whatever happened
        close
        raise
      end
    end

    def connect
      @sock = if @target[0] == :unix
                UNIXSocket.new(@target[1])
              else
                s = TCPSocket.new(@target[1], @target[2])
                s.setsockopt(Socket::IPPROTO_TCP, Socket::TCP_NODELAY, 1)
                s
              end
      @sock.binmode
      @buf = +''.b
    rescue SystemCallError, SocketError => e
      @sock = nil
      raise ConnectFailed, e
    end

    def write_request(method, path, body, headers, timeout)
      head = +"#{method} #{path} HTTP/1.1\r\nHost: localhost\r\nUser-Agent: gantry-ruby-runtime\r\n"
      headers.each { |k, v| head << "#{k}: #{v}\r\n" }
      head << "Content-Length: #{body.bytesize}\r\n" unless body.nil?
      head << "\r\n"
      write_all(head.b, timeout)
      write_all(body.b, timeout) unless body.nil? || body.empty?
    end

    def write_all(data, timeout)
      offset = 0
      while offset < data.bytesize
        n = @sock.write_nonblock(offset.zero? ? data : data.byteslice(offset, data.bytesize - offset), exception: false)
        if n == :wait_writable
          raise ProtocolError, 'timed out writing to the Runtime API' unless @sock.wait_writable(timeout)

          next
        end
        offset += n
      end
    end

    def read_response(timeout)
      head_end = nil
      until (head_end = @buf.index("\r\n\r\n"))
        raise ProtocolError, 'response headers too large' if @buf.bytesize > MAX_HEADER_BYTES

        fill(timeout)
      end
      lines = @buf.byteslice(0, head_end).split("\r\n")
      @buf = @buf.byteslice(head_end + 4, @buf.bytesize - head_end - 4)
      status_line = lines.shift.to_s
      m = %r{\AHTTP/1\.[01] (\d{3})}.match(status_line)
      raise ProtocolError, "bad status line #{status_line[0, 100].inspect}" unless m

      headers = {}
      lines.each do |line|
        name, value = line.split(':', 2)
        next if value.nil?

        headers[name.strip.downcase] = value.strip
      end
      body = read_body(headers, timeout)
      close if headers['connection']&.downcase == 'close'
      [Integer(m[1], 10), headers, body]
    end

    def read_body(headers, timeout)
      if headers['transfer-encoding']&.downcase&.include?('chunked')
        read_chunked(timeout)
      elsif headers.key?('content-length')
        take(Integer(headers['content-length'], 10), timeout)
      else
        # No framing: the body ends with the connection.
        begin
          loop { fill(timeout) }
        rescue EOFError
          nil
        end
        body = @buf
        close
        body
      end
    end

    def read_chunked(timeout)
      body = +''.b
      loop do
        fill(timeout) until (eol = @buf.index("\r\n"))
        size = Integer(@buf.byteslice(0, eol).split(';', 2)[0].strip, 16)
        @buf = @buf.byteslice(eol + 2, @buf.bytesize - eol - 2)
        if size.zero?
          # Trailers, if any, end with an empty line.
          fill(timeout) until (eot = @buf.index("\r\n"))
          until eot.zero?
            @buf = @buf.byteslice(eot + 2, @buf.bytesize - eot - 2)
            fill(timeout) until (eot = @buf.index("\r\n"))
          end
          @buf = @buf.byteslice(2, @buf.bytesize - 2)
          return body
        end
        body << take(size, timeout)
        take(2, timeout)
      end
    end

    def take(n, timeout)
      fill(timeout) while @buf.bytesize < n
      out = @buf.byteslice(0, n)
      @buf = @buf.byteslice(n, @buf.bytesize - n)
      out
    end

    # Reads what the socket has into the buffer; nil timeout waits forever (the long poll).
    def fill(timeout)
      loop do
        chunk = @sock.read_nonblock(65_536, exception: false)
        case chunk
        when :wait_readable
          raise ProtocolError, 'timed out waiting for the Runtime API' unless @sock.wait_readable(timeout)
        when nil
          raise EOFError, 'the Runtime API closed the connection'
        else
          @buf << chunk
          return
        end
      end
    end

    def escape(request_id)
      request_id.b.gsub(/[^A-Za-z0-9\-._~]/) { |c| format('%%%02X', c.ord) }
    end

    def snippet(data)
      text = data.to_s.dup.force_encoding(Encoding::UTF_8).scrub
      text.length <= 200 ? text : "#{text[0, 200]}..."
    end

    def monotonic
      Process.clock_gettime(Process::CLOCK_MONOTONIC)
    end
  end
end
