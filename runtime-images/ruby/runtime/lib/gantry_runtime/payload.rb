# frozen_string_literal: true

# Event in, result out, as AWS's Ruby runtime does it: a JSON event is parsed, anything else
# reaches the handler as the raw body; a result is written with its own `to_json` (so a
# function's to_json methods apply), except a StringIO or IO, whose bytes are posted as they are
# with Content-Type application/unknown.
require 'json'
require 'stringio'

module GantryRuntime
  module Payload
    module_function

    def event(body, content_type)
      return body unless content_type.to_s.split(';', 2)[0].to_s.strip.casecmp?('application/json')

      JSON.parse(body.dup.force_encoding(Encoding::UTF_8))
    end

    # [body bytes, content type]
    def result(value)
      case value
      when StringIO, IO then [value.read.to_s.b, 'application/unknown']
      else [value.to_json, 'application/json']
      end
    end
  end
end
