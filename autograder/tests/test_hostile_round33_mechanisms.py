"""Hostile and fair hand-ins against the mechanisms round 33 added, graded through the engine:

1. ``worker._unwrapped`` trusted any ``__wrapped__`` of a library wrapper: code loaded from a file
   the hand-in wrote to /tmp, wrapped in ``np.errstate(...)`` and given an innocent function of
   the hand-in as ``__wrapped__`` (``functools.update_wrapper``), passed as "loaded from the
   hand-in's files". The wrapped function must be the one the wrapper calls (a closure cell).
2. The overflow watch (``worker.watching_overflow``) forces NumPy's public error state; a sigmoid
   that set NumPy's private context variable itself, or computed in another thread, overflowed
   unseen. Such code is named and fails the overflow check (``layers.unwatched_code``); a stable
   sigmoid behind a decorator of the student's own or in a ``@staticmethod`` keeps its point.
3. An int beyond float's range (10**400, which the wire keeps an int) made the judge's mistake
   matching raise OverflowError: "the grader could not check this function".
4. ``optim.check_plain_state`` never saw a next_config holding something the wire cannot send
   (an array of Python objects, any object): the whole result stayed in the worker, and a list of
   state passed next to it. None was described as "a NoneType".
"""

import textwrap

import pytest

from autograder import compare, engine

from .submissions import graded_entries, graded_variants, make_submission


STABLE = """
    e = np.exp(-np.abs(x))
    out = np.where(x >= 0, 1 / (1 + e), e / (1 + e))
"""

SIGMOIDS = {
    # hostile: a function from a file written at run time, vouched for by an innocent one
    "foreign behind update_wrapper": r'''
        import functools as _ft
        import os as _os
        import tempfile as _tf

        import numpy as np

        _d = _tf.mkdtemp()
        with open(_os.path.join(_d, "zz_foreign_sigmoid.py"), "w") as _f:
            _f.write("import numpy as np\n"
                     "def sigmoid_forward(x):\n"
                     "    out = 0.5 * (1.0 + np.tanh(0.5 * x))\n"
                     "    return out, out\n")
        import coursework as _cw
        _cw.__path__.append(_d)
        from coursework import zz_foreign_sigmoid as _fo


        def _innocent(x):
            out = 0.5 * (1.0 + np.tanh(0.5 * x))
            return out, out


        sigmoid_forward = _ft.update_wrapper(np.errstate(divide="ignore")(_fo.sigmoid_forward),
                                             _innocent)
        ''',
    "private context variable": """
        import numpy as np
        from numpy._core.umath import _extobj_contextvar as _cv, _make_extobj as _mk

        def sigmoid_forward(x):
            token = _cv.set(_mk(all="ignore"))
            try:
                out = 1.0 / (1.0 + np.exp(-x))
            finally:
                _cv.reset(token)
            return out, out
        """,
    "in a thread": """
        import threading
        import warnings

        import numpy as np

        def sigmoid_forward(x):
            box = []

            def run():
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    box.append(1.0 / (1.0 + np.exp(-x)))

            worker = threading.Thread(target=run)
            worker.start()
            worker.join()
            return box[0], box[0]
        """,
    "in an empty context": """
        import contextvars
        import warnings

        import numpy as np

        def sigmoid_forward(x):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                out = contextvars.Context().run(lambda: 1.0 / (1.0 + np.exp(-x)))
            return out, out
        """,
    # fair
    "own functools.wraps decorator": """
        import functools

        import numpy as np

        def logged(f):
            @functools.wraps(f)
            def wrapper(*args, **kwargs):
                return f(*args, **kwargs)
            return wrapper

        @logged
        def sigmoid_forward(x):
        """ + textwrap.indent(textwrap.dedent(STABLE), " " * 12) + """
            return out, out
        """,
    "staticmethod helper": """
        import numpy as np

        class Activations:
            @staticmethod
            def sigmoid(x):
        """ + textwrap.indent(textwrap.dedent(STABLE), " " * 16) + """
                return out

        def sigmoid_forward(x):
            out = Activations.sigmoid(x)
            return out, out
        """,
    "errstate decorator over own stable code": """
        import numpy as np

        @np.errstate(divide="ignore")
        def sigmoid_forward(x):
        """ + textwrap.indent(textwrap.dedent(STABLE), " " * 12) + """
            return out, out
        """,
}


@pytest.fixture(scope="module")
def sigmoids(tmp_path_factory):
    return graded_variants(tmp_path_factory, "02", "layers.sigmoid_forward", "layers.py",
                           SIGMOIDS)


def test_foreign_code_cannot_borrow_an_innocent_wrapped(sigmoids):
    entry = sigmoids["foreign behind update_wrapper"]
    assert entry["score"] == 0, entry
    assert "was not loaded from the hand-in's files" in entry["message"], entry


@pytest.mark.parametrize("name, words", [("private context variable", "_extobj_contextvar"),
                                         ("in a thread", "threads (threading)"),
                                         ("in an empty context", "(contextvars)")])
def test_an_overflow_the_watch_cannot_see_is_named(sigmoids, name, words):
    entry = sigmoids[name]
    assert entry["status"] == "failed" and entry["score"] == 0, entry
    assert "cannot see whether exp overflows" in entry["message"], entry
    assert words in entry["message"] and "coursework/layers.py line" in entry["message"], entry


@pytest.mark.parametrize("name", ["own functools.wraps decorator", "staticmethod helper",
                                  "errstate decorator over own stable code"])
def test_fair_stable_sigmoids_keep_their_point(sigmoids, name):
    entry = sigmoids[name]
    assert entry["status"] == "passed" and entry["score"] == entry["max"], entry


# ---------------------------------------------------------------- ints beyond float's range

@pytest.mark.parametrize("unit, key, code", [
    ("05", "optim.step_decay", """
        def step_decay(step, *, lr0, step_size, gamma=0.1):
            return 10 ** 400
        """),
    ("03", "conv.conv_output_size", """
        def conv_output_size(n, kernel, *, stride=1, pad=0):
            return 10 ** 400
        """),
])
def test_an_int_beyond_floats_range_is_a_wrong_value_not_a_grader_fault(tmp_path, unit, key,
                                                                         code):
    module = key.split(".")[0]
    entry = graded_entries(tmp_path, unit, {key}, append={f"{module}.py": code})[key]
    assert entry["status"] == "failed" and entry["score"] == 0, entry
    assert "fault of the grader" not in entry["message"], entry
    assert "an int of 401 digits" in entry["message"], entry


# ---------------------------------------------------------------- update rules' plain state

ADAM = """
    import collections

    import numpy as np

    def adam(w, dw, config=None):
        _check_arrays("adam", w, dw)
        config = _settings("adam", config, ADAM_DEFAULTS)
        lr, beta1, beta2 = config["learning_rate"], config["beta1"], config["beta2"]
        g = dw + config["weight_decay"] * w
        if config["decoupled"]:
            g = dw
            w = w * (1 - lr * config["weight_decay"])
        m, v, t = READ
        t = t + 1
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        m_hat = m / (1 - beta1 ** t)
        v_hat = v / (1 - beta2 ** t)
        next_w = w - lr * m_hat / (np.sqrt(v_hat) + config["epsilon"])
        STORE
        return next_w, config
    """

PLAIN = 'config.get("m", 0.0), config.get("v", 0.0), config.get("t", 0)'
PACKED = '(*config["mv"], config["t"]) if "mv" in config else (0.0, 0.0, 0)'
STATES = {
    "objects array": (PACKED, 'mv = np.empty(2, dtype=object); mv[0], mv[1] = m, v\n'
                              '    config.update(mv=mv, t=t)'),
    "list next to an object": (PACKED, "config.update(mv=[m, v], t=t, hidden=object())"),
    "OrderedDict, list next to an object": (
        PACKED, "config = collections.OrderedDict(config)\n"
                "    config.update(mv=[m, v], t=t, hidden=object())"),
    "None": (PLAIN, "config.update(m=m, v=v, t=t, last=None)"),
    # fair: numbers of every kind, 0-d arrays, a float step counter
    "numbers of every kind": (PLAIN, "config.update(m=m, v=v, t=float(t), steps=np.int64(t), "
                                     "seen=np.array(t), rate=np.float32(lr))"),
}


@pytest.fixture(scope="module")
def adams(tmp_path_factory):
    variants = {name: textwrap.dedent(ADAM).replace("READ", read).replace("STORE", store)
                for name, (read, store) in STATES.items()}
    return graded_variants(tmp_path_factory, "05", "optim.adam", "optim.py", variants)


@pytest.mark.parametrize("name", ["objects array", "list next to an object",
                                  "OrderedDict, list next to an object"])
def test_state_the_wire_cannot_send_is_not_plain(adams, name):
    entry = adams[name]
    assert entry["status"] == "failed" and entry["score"] == 0, entry
    assert "neither an array of numbers nor a number" in entry["message"], entry
    assert "a key of its own" in entry["hint"], entry


def test_none_in_the_state_is_named_none(adams):
    entry = adams["None"]
    assert entry["score"] == 0, entry
    assert "next_config['last'] is None;" in entry["message"], entry
    assert "NoneType" not in entry["message"], entry


def test_numbers_of_every_kind_keep_full_marks(adams):
    entry = adams["numbers of every kind"]
    assert entry["status"] == "passed" and entry["score"] == entry["max"], entry


# ---------------------------------------------------------------- TinyYOLO's float32 verdict

def test_a_float64_softmax_with_an_epsilon_is_not_told_float32(tmp_path):
    """5. A float64 softmax whose denominator has 1e-7 added sums to 1 within about 1e-7 too:
    it was told its softmax ran in float32 and to remove a dtype=torch.float32 it never wrote.
    Only probabilities that are all float32 numbers get that verdict."""
    pytest.importorskip("torch")
    from autograder.specs.detectors import _check_yolo

    from .submissions import bwrap

    logits = "raw[..., 5:] - raw[..., 5:].amax(-1, keepdim=True)"
    sub = make_submission(tmp_path, replace={"detectors.py": [(
        "torch.softmax(raw[..., 5:], dim=-1)",
        f"(torch.exp({logits}) / (torch.exp({logits}).sum(-1, keepdim=True) + 1e-7))")]})
    report = engine.grade(sub, ["08"], keys={"detectors.TinyYOLO"},
                          use_bwrap=bwrap("08_detection"))
    entry = report["units"]["08_detection"]["functions"]["detectors.TinyYOLO"]
    assert entry["status"] == "failed" and entry["score"] == 0, entry
    assert "float32" not in entry["message"] + entry["hint"], entry
    assert "added to the denominator" in entry["message"], entry
    # the float32 softmax itself keeps its verdict (in the judge, on a made-up output)
    import numpy as np

    rng = np.random.default_rng(0)
    out = rng.random((1, 2, 2, 8))
    e = np.exp(rng.standard_normal((1, 2, 2, 3)).astype(np.float32))
    out[..., 5:] = (e / e.sum(-1, keepdims=True)).astype(np.float64)
    assert np.abs(out[..., 5:].sum(-1) - 1).max() > 1e-9  # float32 rounding shows in the sums
    with pytest.raises(compare.Failed) as failed:
        _check_yolo("TinyYOLO(3)", out, out.shape)
    assert "float32's precision" in failed.value.message, failed.value.message
