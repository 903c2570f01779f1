# frozen_string_literal: true

# The handler named by _HANDLER, in the two forms of AWS's Ruby runtime: `file.method` (a
# top-level method) and `file.Module::Class.method` (a class-level method), `file` relative to
# the task root without `.rb` (`src/app.handler` works). The file is required during init; the
# receiver and its method are looked up at each call, as on Lambda, so a missing method or class
# is an invocation error (`Function<NoMethodError>`, `Function<NameError>`), not an init error.
#
# Kept apart from the loop so that a stem cell can first learn its handler from the platform
# (GET /gantry/v1/specialize) and only then load it.
module GantryRuntime
  class Handler
    attr_reader :file, :class_name, :method_name

    # Raises ArgumentError for a string of neither form (an init error, `Init<ArgumentError>`).
    def self.parse(handler)
      parts = handler.to_s.split('.')
      case parts.size
      when 2 then new(parts[0], nil, parts[1])
      when 3 then new(parts[0], parts[1], parts[2])
      else
        raise ArgumentError,
              "Bad handler #{handler.to_s.inspect}: expected FILE.METHOD (a top-level method in FILE.rb) " \
              'or FILE.CLASS.METHOD (a class-level method of CLASS, which may be namespaced as Module::Class)'
      end
    end

    def initialize(file, class_name, method_name)
      @file = file
      @class_name = class_name
      @method_name = method_name
    end

    # Requires the handler's file from the task root, which goes first on the load path so the
    # function's own files shadow everything else.
    def load(task_root)
      $LOAD_PATH.unshift(task_root) unless $LOAD_PATH.include?(task_root)
      require @file
      self
    end

    def call(event, context)
      receiver = @class_name.nil? ? TOPLEVEL_BINDING.receiver : Object.const_get(@class_name)
      receiver.__send__(@method_name, event: event, context: context)
    end
  end
end
