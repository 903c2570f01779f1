# frozen_string_literal: true

# The init step and the invoke loop (compat.md §1.1, §1.3), as AWS's Ruby runtime runs them.
#
# - init: parse the handler string and require its file; any exception (LoadError, SyntaxError,
#   whatever the file raises) is logged, posted to /runtime/init/error as `Init<Class>`, and the
#   process exits 1.
# - loop: GET next -> handler(event:, context:) -> POST the result, or the error as
#   `Function<Class>`. A StandardError is an ordinary failure and the process goes on. NoMethodError
#   and NameError (which is how a missing handler method or class shows) and any exception outside
#   StandardError (`exit`, SystemStackError, signals) are critical: the error is posted and then the
#   process exits, as on Lambda, so the next call gets a fresh environment.
# - output: $stdout and $stderr are synchronous and flushed again before each post, so whatever an
#   invocation printed has left the process before its result.
# - exit codes: 1 when init or the Runtime API failed (non-200 next, 5xx or no answer to a post);
#   255 after a critical exception. A 4xx answer to a post is logged and the loop goes on.
require 'json'
require_relative 'context'
require_relative 'errors'
require_relative 'handler'
require_relative 'payload'
require_relative 'runtime_api'

module GantryRuntime
  class Runtime
    EXIT_INIT_FAILED = 1
    EXIT_PLATFORM_FAILED = 1
    EXIT_CRITICAL = 255

    def self.install_stdio
      $stdout.sync = true
      $stderr.sync = true
    end

    def initialize(api, env = ENV)
      @api = api
      @env = env
    end

    # The loaded Handler; on failure posts init/error and exits.
    def init(handler_string, task_root)
      Handler.parse(handler_string).load(task_root)
    rescue Exception => e # rubocop:disable Lint/RescueException -- any failure of user code at load is its init error
      doc = Errors.document(e, 'Init')
      log(Errors.format_for_log("Init error when loading handler #{handler_string}", doc))
      begin
        @api.post_init_error(JSON.generate(doc), Errors.header_type(e, 'Init'))
      rescue RuntimeApiError => post_error
        log("[ERROR] Runtime API init/error failed: #{post_error.message}\n")
      end
      exit(EXIT_INIT_FAILED)
    end

    # The invoke loop; returns only through exit.
    def run(handler)
      loop do
        invocation = begin
          @api.next_invocation
        rescue RuntimeApiError => e
          die("Runtime API next failed: #{e.message}")
        end
        invoke(handler, invocation)
      end
    end

    private

    def invoke(handler, inv)
      trace_id = inv.headers['lambda-runtime-trace-id']
      trace_id.nil? ? @env.delete('_X_AMZN_TRACE_ID') : @env['_X_AMZN_TRACE_ID'] = trace_id
      error = nil
      critical = false
      begin
        context = LambdaContext.new(inv.headers, @env)
        event = Payload.event(inv.body, inv.headers['content-type'])
        body, content_type = Payload.result(handler.call(event, context))
      rescue NameError => e # NoMethodError included
        error = e
        critical = true
      rescue StandardError => e
        error = e
      rescue Exception => e # rubocop:disable Lint/RescueException -- reported to the caller, then the process ends
        error = e
        critical = true
      end
      flush_stdio
      if error.nil?
        post { @api.post_invocation_response(inv.request_id, body, content_type) }
        return
      end
      doc = Errors.document(error, 'Function')
      log(Errors.format_for_log(critical ? 'Critical exception from handler' : 'Error raised from handler method', doc))
      post { @api.post_invocation_error(inv.request_id, JSON.generate(doc), Errors.header_type(error, 'Function')) }
      exit(EXIT_CRITICAL) if critical
    end

    def post
      yield
    rescue RuntimeApiError => e
      # The platform refused this post (stale id, already answered, too large) and decides the
      # invocation's outcome itself: keep serving.
      die("Runtime API post failed: #{e.message}") if e.fatal?
      log("[ERROR] Runtime API refused the result: #{e.message}\n")
    end

    def die(message)
      log("[ERROR] #{message}\n")
      exit(EXIT_PLATFORM_FAILED)
    end

    def log(text)
      $stdout.write(text)
      $stdout.flush
    rescue IOError, SystemCallError
      nil # stdout gone: nothing sensible left to do
    end

    def flush_stdio
      [$stdout, $stderr, STDOUT, STDERR].uniq.each do |io|
        io.flush
      rescue IOError, SystemCallError
        nil # a closed or replaced stream cannot hold anything back
      end
    end
  end
end
