"""The only language the judge and the worker speak: framed JSON with arrays as base64.

Nothing received is ever unpickled or executed. Values are plain data — None, bool, int, float,
str, lists, tuples, dicts with string keys, and NumPy arrays of numeric or boolean dtype (an int
beyond 64 bits goes as ``{"$int": decimal text}``, up to ``MAX_BIG_INT_BITS``) — plus a few
tagged references:

- ``Handle(ident)``: an object that lives in the worker (a layer's cache, a model); the judge can
  only pass it back.
- ``Seed(n)``: the worker builds ``numpy.random.default_rng(n)`` in its place.
- ``Fn(name, params)``: one of the trusted functions of ``worker_fns`` (for gradient checkers).

The decoder is strict: unknown tags, object dtypes, size mismatches, deep nesting and oversized
frames are a ``WireError``. This module is copied into the worker's sandbox, so it imports only the
standard library and NumPy.
"""

import base64
import json
import math
import os
import re
import struct

import numpy as np

MAX_FRAME = 64 * 1024 * 1024  # bytes; a worker that sends more is cut off
MAX_DEPTH = 32
MAX_NODES = 1_000_000  # values (list items, dict entries...) in one decoded message
MAX_CONTAINERS = 200_000  # lists and objects in one frame, counted before it is parsed
MAX_ELEMENTS = MAX_FRAME  # entries of one array, even an empty one (its shape is bounded too)
MAX_DIM = 2**31 - 1
MAX_INT_DIGITS = 19  # bare integers are below 2**63; longer ones are refused
MAX_BIG_INT_BITS = 8192  # larger ints go as {"$int": decimal text} up to this size
_ALLOWED_KINDS = "biufc"  # bool, int, uint, float, complex


class WireError(ValueError):
    """A frame or value that does not follow the protocol."""


class Handle:
    """An object kept in the worker; the judge sees only its id."""

    __slots__ = ("id", "type_name", "generation")

    def __init__(self, ident, type_name="", generation=None):
        self.id = int(ident)
        self.type_name = str(type_name)
        self.generation = generation  # judge side: which worker process holds the object

    def __repr__(self):
        return f"Handle({self.id}, {self.type_name!r})"

    def __eq__(self, other):
        return isinstance(other, Handle) and other.id == self.id

    def __hash__(self):
        return hash(self.id)


class Seed:
    """Stands for ``numpy.random.default_rng(n)`` built on the other side."""

    __slots__ = ("n",)

    def __init__(self, n):
        self.n = int(n)

    def __repr__(self):
        return f"Seed({self.n})"


class Fn:
    """Stands for the trusted function ``worker_fns.make(name, params)``."""

    __slots__ = ("name", "params")

    def __init__(self, name, params=None):
        self.name = str(name)
        self.params = params or {}

    def __repr__(self):
        return f"Fn({self.name!r})"


class Unencodable(WireError):
    """A value that is not plain data (the worker turns it into a Handle)."""


def encode(value, depth=0):
    """Turn a value into JSON-ready plain data; raise Unencodable for anything else."""
    if depth > MAX_DEPTH:
        raise Unencodable("nested too deeply")
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        if abs(value) < 2**63:
            return value
        # an int of more than 64 bits stays an int (count_parameters' huge total is reported as
        # what it is, not as a float, nor as float()'s OverflowError); one too long to be a
        # number anyone means is a value the judge cannot read (kept in the worker)
        if value.bit_length() > MAX_BIG_INT_BITS:
            raise Unencodable(f"an int of {value.bit_length()} bits")
        return {"$int": str(int(value))}
    if isinstance(value, float):
        return _encode_float(value)
    if isinstance(value, complex):  # a number: sent as NumPy's, so the judge can name it
        return _encode_array(np.asarray(value), scalar=True)
    if isinstance(value, np.generic) and value.dtype.kind in _ALLOWED_KINDS:
        return _encode_array(np.asarray(value), scalar=True)
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in _ALLOWED_KINDS:
            raise Unencodable(f"an array of dtype {value.dtype}")
        return _encode_array(value)
    if isinstance(value, Handle):
        return {"$ref": value.id, "type": value.type_name}
    if isinstance(value, Seed):
        return {"$rng": value.n}
    if isinstance(value, Fn):
        return {"$fn": value.name, "params": encode(value.params, depth + 1)}
    if isinstance(value, tuple):
        return {"$tuple": [encode(v, depth + 1) for v in value]}
    if isinstance(value, list):
        return [encode(v, depth + 1) for v in value]
    if isinstance(value, dict):
        if all(isinstance(k, str) for k in value):
            return {"$dict": {k: encode(v, depth + 1) for k, v in value.items()}}
        # integer keys ({class: AP}): sent as pairs, so that the judge can say what it got
        if not all(isinstance(k, (str, int, np.integer)) and not isinstance(k, bool)
                   for k in value):
            raise Unencodable("a dict whose keys are not all strings or integers")
        return {"$items": [[k if isinstance(k, str) else encode(int(k), depth + 1),
                            encode(v, depth + 1)] for k, v in value.items()]}
    raise Unencodable(f"a {type(value).__module__}.{type(value).__qualname__}")


def _encode_float(x):
    if math.isfinite(x):
        return x
    return {"$float": "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf")}


def _encode_array(a, scalar=False):
    if a.nbytes > MAX_FRAME * 3 // 4:  # base64 adds a third
        raise WireError(f"an array of {a.nbytes >> 20} MB is more than the grader reads "
                        f"({MAX_FRAME >> 20} MB in all)")
    # not np.ascontiguousarray: it turns a 0-d array (a NumPy scalar) into shape (1,)
    if a.dtype.byteorder == ">":
        a = a.astype(a.dtype.newbyteorder("<"))
    return {
        "$array": base64.b64encode(a.tobytes(order="C")).decode("ascii"),
        "dtype": a.dtype.str,
        "shape": list(a.shape),
        "scalar": scalar,
    }


def decode(data, resolve=None, depth=0, _budget=None, tags=("ref", "rng", "fn")):
    """Inverse of ``encode``. ``resolve(tag, payload)`` maps $ref/$rng/$fn (default: the tag
    classes). At most ``MAX_NODES`` values are decoded, at most ``MAX_DEPTH`` deep; integers
    beyond 64 bits, bare non-finite floats, arrays of absurd shapes and tags not in ``tags`` are
    a ``WireError`` (the judge decodes replies with ``tags=("ref",)``: a result is plain data or
    a handle, never a seed or a function)."""
    if _budget is None:
        _budget = [MAX_NODES]
    _budget[0] -= 1
    if _budget[0] < 0:
        raise WireError(f"more than {MAX_NODES} values in one message")
    if depth > MAX_DEPTH:
        raise WireError("value nested too deeply")
    if data is None or isinstance(data, (bool, str)):
        return data
    if isinstance(data, int):
        if not -2**63 <= data < 2**63:
            raise WireError("an integer of more than 64 bits")
        return data
    if isinstance(data, float):
        if not math.isfinite(data):
            raise WireError("a bare non-finite float")
        return data
    if isinstance(data, list):
        return [decode(v, resolve, depth + 1, _budget, tags) for v in data]
    if not isinstance(data, dict) or len(data) == 0:
        raise WireError(f"unexpected {type(data).__name__} in a frame")
    if "$array" in data:
        return _decode_array(data)
    if "$tuple" in data:
        return tuple(decode(v, resolve, depth + 1, _budget, tags)
                     for v in _expect(data["$tuple"], list))
    if "$dict" in data:
        items = _expect(data["$dict"], dict)
        return {str(k): decode(v, resolve, depth + 1, _budget, tags) for k, v in items.items()}
    if "$items" in data:
        out = {}
        for pair in _expect(data["$items"], list):
            if not isinstance(pair, list) or len(pair) != 2:
                raise WireError("a dict item that is not a (key, value) pair")
            key, item = pair
            if isinstance(key, bool) or not isinstance(key, (str, int)) or (
                    isinstance(key, int) and not -2**63 <= key < 2**63):
                raise WireError("a dict key that is not a string or a 64-bit integer")
            out[key] = decode(item, resolve, depth + 1, _budget, tags)
        return out
    if "$int" in data:
        text = _expect(data["$int"], str)
        if not (len(text) <= 2 + MAX_BIG_INT_BITS * 30103 // 100000 and
                re.fullmatch(r"-?[0-9]+", text)
                and abs(value := int(text)).bit_length() <= MAX_BIG_INT_BITS):
            raise WireError(f"bad integer {_short(text)}")
        return value
    if "$float" in data:
        text = data["$float"]
        if text not in ("nan", "inf", "-inf"):
            raise WireError(f"bad float {text!r}")
        return float(text)
    tag = next((t for t in ("ref", "rng", "fn") if f"${t}" in data), None)
    if tag is not None and tag not in tags:
        raise WireError(f"a ${tag} where none is expected")
    if "$ref" in data:
        ref = Handle(_expect(data["$ref"], int), data.get("type", ""))
        return resolve("ref", ref) if resolve else ref
    if "$rng" in data:
        seed = Seed(_expect(data["$rng"], int))
        return resolve("rng", seed) if resolve else seed
    if "$fn" in data:
        fn = Fn(_expect(data["$fn"], str),
                decode(data.get("params", {"$dict": {}}), None, depth + 1, _budget, ()))
        return resolve("fn", fn) if resolve else fn
    raise WireError(f"unknown tag in {sorted(data)[:3]}")


def _short(value, limit=80):
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def _expect(value, kind):
    if not isinstance(value, kind) or isinstance(value, bool) and kind is int:
        raise WireError(f"expected {kind.__name__}, got {type(value).__name__}")
    return value


def _decode_array(data):
    dtype_str = _expect(data.get("dtype"), str)
    try:
        dtype = np.dtype(dtype_str)
    except Exception:  # noqa: BLE001 - TypeError, ValueError, SyntaxError for odd strings
        raise WireError(f"bad dtype {dtype_str[:40]!r}") from None
    if dtype.kind not in _ALLOWED_KINDS or dtype.hasobject or dtype.fields is not None:
        raise WireError(f"dtype {dtype_str!r} is not allowed")
    shape = _expect(data.get("shape"), list)
    if len(shape) > 32 or not all(isinstance(n, int) and not isinstance(n, bool)
                                  and 0 <= n <= MAX_DIM for n in shape):
        raise WireError(f"bad shape {_short(shape)}")
    # numpy refuses shapes whose product of non-zero sizes overflows, even for empty arrays
    if math.prod(n for n in shape if n) > MAX_ELEMENTS:
        raise WireError(f"an array of shape {_short(shape)} is larger than the grader reads")
    try:
        raw = base64.b64decode(_expect(data["$array"], str), validate=True)
    except (ValueError, TypeError) as exc:  # binascii.Error is a ValueError
        raise WireError(f"bad array data: {exc}") from None
    if len(raw) != math.prod(shape) * dtype.itemsize:
        raise WireError(f"{len(raw)} bytes do not fill an array of shape {shape} and {dtype}")
    array = np.frombuffer(raw, dtype=dtype).reshape(tuple(shape)).copy()
    if data.get("scalar") is True and array.ndim == 0:
        return array[()]
    return array


def dumps(message):
    """Serialize one message (already encoded) to bytes."""
    return json.dumps(message, separators=(",", ":"), allow_nan=False).encode("utf-8")


def dumps_frame(message):
    """One length-prefixed frame, as bytes."""
    body = dumps(message)
    return struct.pack(">Q", len(body)) + body


def write_frame(fd, message):
    """Write one length-prefixed frame to the file descriptor ``fd``."""
    _write_all(fd, dumps_frame(message))


def _write_all(fd, data):
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def read_exact(fd, n):
    """Read exactly n bytes (blocking); EOFError if the other side closed first."""
    chunks = []
    while n:
        chunk = os.read(fd, min(n, 1 << 20))
        if not chunk:
            raise EOFError("the other side closed the channel")
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def parse_body(body):
    """Parse a frame body into (undecoded) JSON data.

    Bounded before parsing: a frame with more than ``MAX_CONTAINERS`` lists and objects or more
    than ``MAX_NODES`` separators is refused by counting bytes (base64 and numbers hold none of
    ``[{,``), so tens of millions of tiny values never become Python objects; integers longer
    than 64 bits are refused as they are read."""
    body = bytes(body)
    containers = body.count(b"[") + body.count(b"{")
    if containers > MAX_CONTAINERS:
        raise WireError(f"a frame of more than {MAX_CONTAINERS} lists or dicts")
    if body.count(b",") + body.count(b":") > 2 * MAX_NODES:
        raise WireError(f"a frame of more than {MAX_NODES} values")
    try:
        return json.loads(body.decode("utf-8"), parse_constant=_reject_constant,
                          parse_int=_parse_int)
    except WireError:
        raise
    except (ValueError, RecursionError, MemoryError) as exc:
        # JSONDecodeError, UnicodeDecodeError, integers beyond the digit limit are ValueErrors
        raise WireError(f"unreadable frame: {str(exc)[:200]}") from None


def _parse_int(text):
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise WireError(f"an integer of {len(text)} digits")
    return int(text)


def _reject_constant(name):
    raise WireError(f"bare {name} in a frame")


def read_frame(fd, max_size=MAX_FRAME):
    """Read one frame (blocking) and return its parsed JSON data."""
    (size,) = struct.unpack(">Q", read_exact(fd, 8))
    if size > max_size:
        raise WireError(f"a frame of {size} bytes exceeds the limit of {max_size}")
    return parse_body(read_exact(fd, size))
