# frozen_string_literal: true

# The error documents the runtime posts (compat.md §1.3), shaped as AWS's Ruby runtime shapes
# them: {"errorMessage", "errorType", "stackTrace"}, where errorType names the phase and the
# exception's class, `Function<RuntimeError>` for a failed invocation and `Init<LoadError>` for a
# failed init. The Lambda-Runtime-Function-Error-Type header carries the same value for Ruby's own
# common classes and `Function<UserException>` for every other class, as on Lambda.
require 'json'

module GantryRuntime
  module Errors
    RUNTIME_DIR = File.expand_path('..', __dir__)
    MAX_FRAMES = 100
    HEADER_CLASSES = %w[ArgumentError NoMethodError Exception StandardError NameError LoadError SystemExit
                        SystemStackError].freeze

    module_function

    # category: 'Function' (an invocation) or 'Init' (loading the handler).
    def document(exception, category)
      {
        'errorMessage' => text(exception.message),
        'errorType' => "#{category}<#{exception.class}>",
        'stackTrace' => user_stack(exception)
      }
    end

    def header_type(exception, category)
      HEADER_CLASSES.include?(exception.class.to_s) ? "#{category}<#{exception.class}>" : 'Function<UserException>'
    end

    # The frames up to the first one inside the runtime: what the function's code did, not how
    # the runtime called it.
    def user_stack(exception)
      frames = (exception.backtrace_locations || exception.backtrace || []).map(&:to_s)
      frames.take(MAX_FRAMES).take_while { |f| !f.start_with?(RUNTIME_DIR + File::SEPARATOR) }.map { |f| text(f) }
    end

    # The logged record: a label line, then the document as indented JSON.
    def format_for_log(label, doc)
      "#{label}\n#{JSON.pretty_generate(doc)}\n"
    end

    # Exception messages may hold any bytes; the document is JSON, so it must be valid UTF-8.
    def text(value)
      value.to_s.dup.force_encoding(Encoding::UTF_8).scrub
    end
  end
end
