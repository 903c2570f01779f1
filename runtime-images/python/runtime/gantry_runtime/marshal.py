"""Event and result (un)marshalling as the official Python RIC does it: JSON in; JSON out with
ASCII escapes (python3.11), except a `bytes` result, which is posted as is with
Content-Type application/unknown. decimal.Decimal values are written as numbers."""
import decimal
import json

from .errors import FaultException


class _Encoder(json.JSONEncoder):
    def default(self, o):
        if isinstance(o, decimal.Decimal):
            # The RIC writes str(Decimal) verbatim; the standard library cannot, so integral
            # values stay exact and others become the nearest float.
            if o.is_nan():
                return float("nan")
            return int(o) if o == o.to_integral_value() and o.is_finite() else float(o)
        return super().default(o)


_ENCODER = _Encoder()


def to_json(obj):
    return _ENCODER.encode(obj)


def unmarshal_request(body, content_type):
    if content_type is not None and content_type.split(";")[0].strip() != "application/json":
        return body
    try:
        return json.loads(body)
    except Exception as e:
        raise FaultException(FaultException.UNMARSHAL_ERROR, "Unable to unmarshal input: %s" % e)


def marshal_response(response):
    """(body bytes, content type)."""
    if isinstance(response, bytes):
        return response, "application/unknown"
    try:
        return to_json(response).encode("utf-8"), "application/json"
    except Exception as e:
        raise FaultException(FaultException.MARSHAL_ERROR, "Unable to marshal response: %s" % e)
