"""The framed JSON protocol: plain data round-trips; anything else is refused, never executed."""

import base64
import json
import os
import pickle
import struct

import numpy as np
import pytest

from autograder import wire


def roundtrip(value):
    return wire.decode(json.loads(wire.dumps(wire.encode(value))))


def test_plain_values_round_trip():
    value = {"a": [1, 2.5, None, True, "s"], "t": (np.arange(6).reshape(2, 3), np.float32(1.5)),
             "nan": float("nan"), "inf": -float("inf"), "big": 2**70, "c": np.array([1 + 2j]),
             "b": np.array([True, False]), "be": np.arange(3, dtype=">f8"),
             "empty": np.zeros((0, 3))}
    out = roundtrip(value)
    assert out["a"] == [1, 2.5, None, True, "s"]
    assert isinstance(out["t"], tuple) and out["t"][0].shape == (2, 3)
    assert out["t"][1] == np.float32(1.5) and out["t"][1].dtype == np.float32
    assert np.isnan(out["nan"]) and out["inf"] == -float("inf")
    assert out["big"] == float(2**70)
    assert out["c"].dtype.kind == "c" and out["b"].dtype == bool
    np.testing.assert_array_equal(out["be"], [0.0, 1.0, 2.0])
    assert out["empty"].shape == (0, 3)


def test_tags_decode_to_their_classes():
    h = roundtrip(wire.Handle(7, "dict"))
    assert isinstance(h, wire.Handle) and h.id == 7 and h.generation is None
    assert roundtrip(wire.Seed(3)).n == 3
    assert roundtrip(wire.Fn("quadratic", {"a": [1.0]})).name == "quadratic"


def test_a_dict_with_integer_keys_round_trips():
    """{class: AP} is data a student may return: the judge must see it to say what it is."""
    out = roundtrip({0: 0.5, np.int64(2): np.float64(0.25), "s": [1]})
    assert out == {0: 0.5, 2: 0.25, "s": [1]} and all(type(k) in (int, str) for k in out)


@pytest.mark.parametrize("value", [object(), np.array([object()]), {1.5: 2}, {True: 1},
                                   {(1, 2): 3}, b"bytes", np.array(["text"]),
                                   np.datetime64("2020-01-01"), {1, 2}])
def test_what_is_not_plain_data_is_unencodable(value):
    with pytest.raises(wire.Unencodable):
        wire.encode(value)


def test_deep_nesting_is_unencodable_and_undecodable():
    deep = []
    for _ in range(wire.MAX_DEPTH + 5):
        deep = [deep]
    with pytest.raises(wire.Unencodable):
        wire.encode(deep)
    with pytest.raises(wire.WireError):
        wire.decode(deep)


def test_an_array_larger_than_a_frame_is_refused_before_encoding():
    big = np.lib.stride_tricks.as_strided(np.zeros(1), shape=(wire.MAX_FRAME,), strides=(0,))
    with pytest.raises(wire.WireError, match="more than the grader reads"):
        wire.encode(big)


PAYLOAD = base64.b64encode(pickle.dumps(os.getpid)).decode()


@pytest.mark.parametrize("data", [
    {"$pickle": PAYLOAD},
    {"$array": PAYLOAD, "dtype": "|O", "shape": [1]},
    {"$array": PAYLOAD, "dtype": "V8", "shape": [1]},
    {"$array": PAYLOAD, "dtype": "i8,i8", "shape": [1]},
    {"$array": PAYLOAD, "dtype": "(2,)f8", "shape": [1]},
    {"$array": PAYLOAD, "dtype": "not a dtype", "shape": [1]},
    {"$array": "AAAA", "dtype": "<f8", "shape": [1]},  # 3 bytes for 8
    {"$array": "not base64!", "dtype": "<f8", "shape": [1]},
    {"$array": "", "dtype": "<f8", "shape": [-1]},
    {"$array": "", "dtype": "<f8", "shape": [2**62, 2**62]},
    {"$array": "", "dtype": "<f8", "shape": [0, 2**62, 2**62]},  # empty, yet no NumPy shape
    {"$array": "", "dtype": "<f8", "shape": [0, 2**40, 2**40]},
    {"$tuple": [10**4000]},  # the encoder never sends an integer beyond 64 bits
    [float("inf")],  # nor a bare non-finite float
    2**63,
    {"$array": "", "dtype": "<f8", "shape": "1"},
    {"$array": 5, "dtype": "<f8", "shape": [1]},
    {"$float": "1e999"},
    {"$ref": "1"},
    {"$ref": True},
    {"$rng": 1.5},
    {"$items": [[1.5, 2]]},  # keys are strings or 64-bit integers only
    {"$items": [[True, 2]]},
    {"$items": [[2**64, 2]]},
    {"$items": [[[1], 2]]},
    {"$items": [[1, 2, 3]]},
    {"$items": {"a": 1}},
    {},
    {"unknown": 1},
])
def test_hostile_values_are_refused(data):
    with pytest.raises(wire.WireError):
        wire.decode(data)


def test_numpy_scalars_and_0d_arrays_keep_their_shape():
    """A NumPy scalar is a number, never an array of shape (1,)."""
    for value in (np.int64(5), np.float32(2.5), np.bool_(True)):
        out = roundtrip(value)
        assert isinstance(out, np.generic) and out == value and out.dtype == value.dtype
    assert roundtrip(np.array(3.0)).shape == ()
    np.testing.assert_array_equal(roundtrip(np.arange(6).reshape(2, 3).T),
                                  np.arange(6).reshape(2, 3).T)


def test_replies_carry_no_seeds_or_functions():
    for data in ({"$rng": 1}, {"$fn": "quadratic", "params": {"$dict": {}}}):
        with pytest.raises(wire.WireError, match="where none is expected"):
            wire.decode([data], tags=("ref",))
    assert wire.decode({"$ref": 3}, tags=("ref",)) == wire.Handle(3)


def test_too_many_values_are_refused():
    with pytest.raises(wire.WireError, match="values in one message"):
        wire.decode([0] * (wire.MAX_NODES + 1))
    assert len(wire.decode([0] * 1000)) == 1000


@pytest.mark.parametrize("body", [
    b"\xff\xfe", b"{", b"NaN", b"[Infinity]", b"[" * 100_000 + b"]" * 100_000,
    b"1" * 10_000,  # an integer beyond Python's digit limit
    b"1" * 4000,  # within Python's limit, beyond 64 bits
    b"[" + b"[]," * 1_000_000 + b"[]]",  # a million empty lists: refused before parsing
    b"[" + b"1," * 3_000_000 + b"1]",
])
def test_unreadable_frames_are_wire_errors(body):
    with pytest.raises(wire.WireError):
        wire.parse_body(body)


def test_frames_over_a_pipe_and_the_size_limit():
    r, w = os.pipe()
    try:
        wire.write_frame(w, {"ok": True, "value": wire.encode([1, 2])})
        assert wire.read_frame(r) == {"ok": True, "value": [1, 2]}
        os.write(w, struct.pack(">Q", wire.MAX_FRAME + 1))
        with pytest.raises(wire.WireError):
            wire.read_frame(r)
        os.close(w)
        w = None
        with pytest.raises(EOFError):
            wire.read_frame(r)
    finally:
        os.close(r)
        if w is not None:
            os.close(w)


def test_a_frame_of_tens_of_millions_of_lists_is_refused_quickly():
    """Counting bytes refuses it before any list is built (no gigabytes, no seconds)."""
    import time

    body = b"[" + b"[]," * 10_000_000 + b"[]]"
    started = time.process_time()
    with pytest.raises(wire.WireError, match="lists or dicts"):
        wire.parse_body(body)
    assert time.process_time() - started < 1.0


def test_a_python_complex_is_sent_as_a_number():
    """A complex loss (x ** 0.5 of a negative float) was unencodable: the judge saw only "a
    tuple that holds something other than ... numbers" and could not say it was complex."""
    out = wire.decode(json.loads(json.dumps(wire.encode((complex(1.5, -2.0), 3.0)))))
    assert isinstance(out, tuple) and out[1] == 3.0
    assert isinstance(out[0], np.complexfloating) and out[0] == complex(1.5, -2.0)
