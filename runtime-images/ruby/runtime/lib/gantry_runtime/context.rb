# frozen_string_literal: true

# The `context` handed to the handler (keyword `context:`), with the readers of AWS's Ruby
# runtime: built per invocation from the environment and the `next` response's headers.
require 'json'

module GantryRuntime
  class LambdaContext
    attr_reader :aws_request_id, :invoked_function_arn, :log_group_name, :log_stream_name, :function_name,
                :memory_limit_in_mb, :function_version, :identity, :client_context, :deadline_ms, :tenant_id

    def initialize(headers, env = ENV)
      @aws_request_id = headers['lambda-runtime-aws-request-id']
      @invoked_function_arn = headers['lambda-runtime-invoked-function-arn']
      @deadline_ms = headers['lambda-runtime-deadline-ms'].to_i
      @tenant_id = headers['lambda-runtime-aws-tenant-id']
      @identity = parse_json(headers['lambda-runtime-cognito-identity'])
      @client_context = parse_json(headers['lambda-runtime-client-context'])
      @log_group_name = env['AWS_LAMBDA_LOG_GROUP_NAME']
      @log_stream_name = env['AWS_LAMBDA_LOG_STREAM_NAME']
      @function_name = env['AWS_LAMBDA_FUNCTION_NAME']
      @memory_limit_in_mb = env['AWS_LAMBDA_FUNCTION_MEMORY_SIZE']
      @function_version = env['AWS_LAMBDA_FUNCTION_VERSION']
    end

    # Milliseconds left before the deadline, never below 0.
    def get_remaining_time_in_millis # rubocop:disable Naming/AccessorMethodName -- Lambda's name
      remaining = @deadline_ms - Process.clock_gettime(Process::CLOCK_REALTIME, :millisecond)
      remaining.positive? ? remaining : 0
    end

    private

    def parse_json(value)
      return nil if value.nil? || value.empty?

      JSON.parse(value.dup.force_encoding(Encoding::UTF_8))
    rescue JSON::ParserError
      nil
    end
  end
end
