# frozen_string_literal: true

# Gantry's Ruby runtime client: ruby /var/runtime/bootstrap.rb [socketPath]
#
# Speaks the Lambda Runtime API (/2018-06-01) over a unix socket, default /run/gantry/runtime.sock
# (see GantryRuntime::RuntimeApi.resolve_target for the other sources). Reads _HANDLER and
# LAMBDA_TASK_ROOT to load the handler, and AWS_LAMBDA_FUNCTION_NAME, AWS_LAMBDA_FUNCTION_VERSION,
# AWS_LAMBDA_FUNCTION_MEMORY_SIZE, AWS_LAMBDA_LOG_GROUP_NAME and AWS_LAMBDA_LOG_STREAM_NAME for the
# context; sets _X_AMZN_TRACE_ID per invocation. Without _HANDLER it is a stem cell and first asks
# GET /gantry/v1/specialize for its function. Standard library only.
#
# Nothing here defines a top-level method: a handler `file.method` is a top-level method of the
# function's file, and the runtime's own must never stand in for a missing one.
$LOAD_PATH.unshift(File.join(__dir__, 'lib')) unless $LOAD_PATH.include?(File.join(__dir__, 'lib'))
require 'gantry_runtime/runtime'

module GantryRuntime
  DEFAULT_SOCKET_PATH = '/run/gantry/runtime.sock'
  DEFAULT_TASK_ROOT = '/var/task'

  def self.main(argv)
    api = RuntimeApi.new(RuntimeApi.resolve_target(argv[0], ENV, DEFAULT_SOCKET_PATH))
    # The socket path is the runtime's business, not the function's.
    argv.clear
    Runtime.install_stdio

    # Started without _HANDLER, this is a stem cell (design.md): it waits for the platform to
    # assign a function and takes that function's environment before it requires anything of the
    # function's. Nothing of the function's exists in this process, or in /var/task, before that.
    if ENV['_HANDLER'].to_s.empty?
      begin
        ENV.update(api.specialize)
      rescue RuntimeApiError => e
        $stderr.write("[ERROR] Runtime API specialize failed: #{e.message}\n")
        exit(1)
      end
      # GEM_PATH and GEM_HOME may be the function's own now; RubyGems reads them again when asked.
      Gem.clear_paths if defined?(Gem) && Gem.respond_to?(:clear_paths)
    end

    runtime = Runtime.new(api)
    handler = runtime.init(ENV['_HANDLER'], ENV['LAMBDA_TASK_ROOT'].to_s.empty? ? DEFAULT_TASK_ROOT : ENV['LAMBDA_TASK_ROOT'])
    runtime.run(handler)
  end
end

GantryRuntime.main(ARGV)
