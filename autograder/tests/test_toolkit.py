"""The spec toolkit on a stateful layer (the contract of docs/design.md), in process and through
the real worker, and the warning for a unit whose module has no spec."""

import textwrap
import types

import numpy as np
import pytest

from autograder import units
from autograder.compare import Failed
from autograder.oracle import Oracle
from autograder.runner import Student
from autograder.sandbox import Limits
from autograder.spec import Case, Spec, Trial
from autograder.specs import toolkit
from autograder.testing import FakeStudent

from .submissions import package

# A toy stateful layer: out = gamma * (x - mu), mu the batch mean in training and the running mean
# in evaluation; the running mean moves towards the batch mean by (1 - momentum).
TOY = '''
import numpy as np

def center_forward(x, gamma, state, *, train=True, momentum=0.9):
    mu = x.mean(axis=0) if train else state["running_mean"]
    new_state = dict(state)
    if train:
        new_state["running_mean"] = momentum * state["running_mean"] + (1 - momentum) * mu
    return gamma * (x - mu), (x, gamma, mu, train), new_state

def center_backward(dout, cache):
    x, gamma, mu, train = cache
    dx = gamma * dout
    if train:
        dx = dx - dx.mean(axis=0)
    return dx, (dout * (x - mu)).sum(axis=0)
'''

IN_PLACE = '''
def center_forward(x, gamma, state, *, train=True, momentum=0.9):
    mu = x.mean(axis=0) if train else state["running_mean"]
    if train:
        state["running_mean"] *= momentum
        state["running_mean"] += (1 - momentum) * mu
    return gamma * (x - mu), (x, gamma, mu, train), state
'''

REPLACES_ENTRY = '''
def center_forward(x, gamma, state, *, train=True, momentum=0.9):
    mu = x.mean(axis=0) if train else state["running_mean"]
    if train:
        state["running_mean"] = momentum * state["running_mean"] + (1 - momentum) * mu
    return gamma * (x - mu), (x, gamma, mu, train), state
'''

NO_MOMENTUM = '''
def center_forward(x, gamma, state, *, train=True, momentum=0.9):
    mu = x.mean(axis=0) if train else state["running_mean"]
    return gamma * (x - mu), (x, gamma, mu, train), {"running_mean": mu}
'''

PAIR = '''
def center_forward(x, gamma, state, *, train=True, momentum=0.9):
    return gamma * (x - x.mean(axis=0)), (x, gamma)
'''

MISTAKE = "the running mean moves by (1 - momentum) towards the batch mean, not onto it"


def module(*sources):
    mod = types.ModuleType("toy")
    for source in sources:
        exec(textwrap.dedent(source), mod.__dict__)
    return mod


def namespace(*sources):
    return types.SimpleNamespace(toy=module(*sources))


def cases(t):
    rng = np.random.default_rng(0)
    x, dout = rng.standard_normal((5, 3)), rng.standard_normal((5, 3))
    gamma = rng.standard_normal(3)
    state = {"running_mean": rng.standard_normal(3)}
    return [Case("train, N=5, D=3", (x, gamma, state, dout), {"train": True}),
            Case("eval", (x, gamma, state, dout), {"train": False}),
            Case("train, momentum=0.5", (x[:2], gamma, state, dout[:2]),
                 {"train": True, "momentum": 0.5})]


@pytest.fixture
def layer():
    spec = Spec("toy")
    made = toolkit.Layer(spec, "center", argnames=("x", "gamma", "state"), grads=("dx", "dgamma"),
                         cases=cases, stateful=True)
    made.tests(points=(1, 1))
    yield made
    toolkit.LAYERS.pop((made.forward, made.backward))


def oracle():
    o = Oracle()
    o._cw = namespace(TOY)
    wrong = module(TOY, NO_MOMENTUM).center_forward
    o._mistakes["toy"] = {"toy.center_forward": [(MISTAKE, wrong)]}
    return o


def verdict(layer, key, *student_sources):
    trial = Trial(FakeStudent(namespace(TOY, *student_sources)), oracle())
    try:
        layer.spec.tests[key].func(trial)
    except Failed as failure:
        return failure
    return None


def test_the_reference_passes_forward_and_backward(layer):
    assert verdict(layer, "toy.center_forward") is None
    assert verdict(layer, "toy.center_backward") is None


def test_a_state_changed_in_place_fails_naming_the_entry(layer):
    failure = verdict(layer, "toy.center_forward", IN_PLACE)
    assert failure is not None
    assert "center_forward(train, N=5, D=3): modified its input state['running_mean']" in (
        failure.message)


DOUT_IN_PLACE = '''
def center_backward(dout, cache):
    x, gamma, mu, train = cache
    dout *= gamma
    return dout, None
'''


def test_the_copy_to_make_names_the_input_that_was_changed(layer):
    """Every input changed in place was told "x = x.copy()", a dout or a state
    entry too."""
    failure = verdict(layer, "toy.center_backward", DOUT_IN_PLACE)
    assert failure is not None and "modified its input dout in place" in failure.message
    assert "(dout = dout.copy())" in failure.message and "x = x.copy()" not in failure.message
    failure = verdict(layer, "toy.center_forward", IN_PLACE)
    assert "(copy state['running_mean'] first with .copy())" in failure.message


def test_a_state_entry_replaced_fails_naming_the_entry_and_what_to_do(layer):
    """A new array assigned into the caller's state was told to "work on a copy or
    build new arrays", which it had done."""
    failure = verdict(layer, "toy.center_forward", REPLACES_ENTRY)
    assert failure is not None
    assert "changed a dict it was given (assigned state['running_mean']); build a new dict" \
        in failure.message, failure.message


def test_a_wrong_new_state_fails_with_the_known_mistake(layer):
    failure = verdict(layer, "toy.center_forward", NO_MOMENTUM)
    assert failure is not None
    assert failure.message.startswith("center_forward(train, N=5, D=3): new_state['running_mean']")
    assert failure.hint == MISTAKE


def test_a_forward_without_the_state_fails_saying_what_to_return(layer):
    failure = verdict(layer, "toy.center_forward", PAIR)
    assert "should return (out, cache, new_state), got a tuple of 2 values" in failure.message
    assert "return out, cache, new_state" in failure.hint
    # The backward test needs the student's forward too, and says the same.
    assert "should return (out, cache, new_state)" in verdict(
        layer, "toy.center_backward", PAIR).message


def test_a_wrong_backward_fails_naming_the_gradient(layer):
    failure = verdict(layer, "toy.center_backward", '''
def center_backward(dout, cache):
    x, gamma, mu, train = cache
    return gamma * dout, (dout * (x - mu)).sum(axis=0)
''')
    assert failure.message.startswith("center_backward(train, N=5, D=3): dx is wrong")


def test_a_backward_that_changes_its_cache_fails_on_the_second_call(layer):
    failure = verdict(layer, "toy.center_backward", '''
def center_backward(dout, cache):
    x, gamma, mu, train = cache
    x -= mu                        # saves a copy, and changes the cache for the next call
    dx = gamma * dout
    if train:
        dx = dx - dx.mean(axis=0)
    return dx, (dout * x).sum(axis=0)
''')
    assert failure.message.startswith("center_backward(train, N=5, D=3): the first call was "
                                      "right, but a second call through the same cache returned "
                                      "something else (dgamma is wrong")
    assert "leave the cache as the forward made it" in failure.hint


LIST_CACHE = '''
def center_forward(x, gamma, state, *, train=True, momentum=0.9):
    mu = x.mean(axis=0) if train else state["running_mean"]
    new_state = dict(state)
    if train:
        new_state["running_mean"] = momentum * state["running_mean"] + (1 - momentum) * mu
    return gamma * (x - mu), [x, gamma, mu, train], new_state
'''

POPS_THE_CACHE = '''
def center_backward(dout, cache):
    train, mu, gamma, x = cache.pop(), cache.pop(), cache.pop(), cache.pop()
    dx = gamma * dout
    if train:
        dx = dx - dx.mean(axis=0)
    return dx, (dout * (x - mu)).sum(axis=0)
'''


def test_a_backward_that_uses_up_its_cache_fails_saying_so(layer):
    assert verdict(layer, "toy.center_forward", LIST_CACHE) is None
    failure = verdict(layer, "toy.center_backward", LIST_CACHE, POPS_THE_CACHE)
    assert failure.message.startswith("center_backward(train, N=5, D=3): the first call was "
                                      "right, but a second call through the same cache raised")
    assert "pop()" in failure.hint


def test_a_forward_that_remembers_results_by_shape_fails_on_new_values(layer):
    failure = verdict(layer, "toy.center_forward", '''
_SEEN = {}

def center_forward(x, gamma, state, *, train=True, momentum=0.9):
    mu = x.mean(axis=0) if train else state["running_mean"]
    new_state = dict(state)
    if train:
        new_state["running_mean"] = momentum * state["running_mean"] + (1 - momentum) * mu
    out = _SEEN.setdefault((x.shape, train), gamma * (x - mu))
    return out, (x, gamma, mu, train), new_state
''')
    assert failure.message.startswith("center_forward(train, N=5, D=3, the same shapes with new "
                                      "values of x and gamma): out is wrong")
    assert "something is remembered between calls" in failure.hint


def test_a_backward_that_reads_what_the_forward_left_outside_its_cache_fails(layer):
    """A backward reading the forward's x from a module-level variable passed (every
    backward came straight after its own forward); a network of two such layers backpropagates
    one through the other's values."""
    failure = verdict(layer, "toy.center_backward", '''
_LAST = {}

def center_forward(x, gamma, state, *, train=True, momentum=0.9):
    mu = x.mean(axis=0) if train else state["running_mean"]
    new_state = dict(state)
    if train:
        new_state["running_mean"] = momentum * state["running_mean"] + (1 - momentum) * mu
    _LAST["x"] = x
    return gamma * (x - mu), (gamma, mu, train), new_state


def center_backward(dout, cache):
    gamma, mu, train = cache
    x = _LAST["x"]
    dx = gamma * dout
    if train:
        dx = dx - dx.mean(axis=0)
    return dx, (dout * (x - mu)).sum(axis=0)
''')
    assert failure.message.startswith("center_backward(train, N=5, D=3, its backward called "
                                      "after a forward on other values): dgamma is wrong"), \
        failure.message
    assert "reads something the forward left outside the cache" in failure.hint


def test_new_values_keep_shape_dtype_and_the_rest_of_the_case():
    x = np.arange(6.0, dtype=np.float32).reshape(2, 3)
    case = Case("c", (x, np.ones(3), "dout"), {"k": 1})
    again = toolkit.new_values(case, ("x", "w"))
    assert again.label == "c, the same shapes with new values of x and w"
    assert again.args[0].shape == x.shape and again.args[0].dtype == np.float32
    assert not np.any(again.args[0] == x) and not np.any(again.args[1] == 1.0)
    assert again.args[2:] == case.args[2:] and again.kwargs == {"k": 1}
    assert toolkit.new_values(Case("ids", (np.arange(3), "dout")), ("x",)) is None
    # integer inputs (indices, token ids) keep their values
    ids = toolkit.new_values(Case("e", (np.arange(3), np.ones((4, 2)), "dout")), ("x", "W"))
    assert ids.label == "e, the same shapes with new values of W"
    assert np.array_equal(ids.args[0], np.arange(3))


# A random layer: the rng comes as wire.Seed(n) in the case's kwargs; the student's worker and the
# reference each build np.random.default_rng(n) afresh for every call, so their masks agree.
NOISE = '''
def noise_forward(x, *, rng):
    mask = rng.random(x.shape) < 0.5
    return x * mask, mask

def noise_backward(dout, cache):
    return dout * cache
'''

NOISE_OTHER_DRAW = '''
def noise_forward(x, *, rng):
    rng.random()  # one draw too many: another mask
    mask = rng.random(x.shape) < 0.5
    return x * mask, mask
'''


def test_a_random_layer_gets_the_same_stream_as_the_reference():
    from autograder.wire import Seed

    spec = Spec("toy")
    rng = np.random.default_rng(1)
    x, dout = rng.standard_normal((4, 6)), rng.standard_normal((4, 6))
    layer = toolkit.Layer(spec, "noise", argnames=("x",), grads=("dx",),
                          cases=lambda t: [Case("seed 5", (x, dout), {"rng": Seed(5)})])
    layer.tests(points=(1, 1))
    try:
        o = Oracle()
        o._cw = namespace(NOISE)
        o._mistakes["toy"] = {}
        for key in ("toy.noise_forward", "toy.noise_backward"):
            layer.spec.tests[key].func(Trial(FakeStudent(namespace(NOISE)), o))
        with pytest.raises(Failed, match="noise_forward.seed 5.: out is wrong"):
            layer.spec.tests["toy.noise_forward"].func(
                Trial(FakeStudent(namespace(NOISE, NOISE_OTHER_DRAW)), o))
    finally:
        toolkit.LAYERS.pop((layer.forward, layer.backward))


@pytest.fixture
def submission(tmp_path):
    package = tmp_path / "student" / "coursework"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "toy.py").write_text(textwrap.dedent(TOY))
    (package / "in_place.py").write_text(textwrap.dedent(IN_PLACE))
    (package / "replaces.py").write_text(textwrap.dedent(REPLACES_ENTRY))
    return package.parent


def test_the_worker_reports_a_state_changed_in_place(submission):
    x, gamma, state = np.ones((2, 3)), np.ones(3), {"running_mean": np.zeros(3)}
    with Student(submission, Limits(call_seconds=10.0, cpu_seconds=10.0)) as s:
        _, modified = s.call_full("toy.center_forward", x, gamma, state, opaque=[1])
        assert modified == []
        _, modified = s.call_full("in_place.center_forward", x, gamma, state, opaque=[1])
        assert modified == ["2['running_mean']"]
        _, modified = s.call_full("replaces.center_forward", x, gamma, state, opaque=[1])
        assert modified == ["2['running_mean'] (assigned)"]  # the entry, not the array
        _, modified = s.call_full("toy.center_forward", x, gamma, state=state, opaque=[1])
        assert modified == []
    assert toolkit.modified_names(["2['running_mean']", "0", "2"], ("x", "gamma", "state")) == [
        "state['running_mean']", "0", "2"]


NESTED = '''
def sort_each(images):
    for boxes, scores in images:
        order = scores.argsort()
        scores[:] = scores[order]            # changes an array inside a list of tuples
    return len(images)

def take_last(items):
    return items.pop()                       # changes the list itself

def reads_only(images):
    return sum(float(scores.sum()) for _, scores in images)
'''


def test_the_worker_reports_changes_inside_lists_and_tuples(tmp_path):
    folder = package(tmp_path, nested=NESTED)
    images = [(np.zeros((2, 4)), np.array([0.9, 0.3])), (np.zeros((1, 4)), np.array([0.5]))]
    with Student(folder, Limits(call_seconds=10.0, cpu_seconds=10.0)) as s:
        assert s.call_full("nested.reads_only", images)[1] == []
        assert s.call_full("nested.sort_each", images)[1] == ["0[0][1]"]
        assert s.call_full("nested.take_last", [np.ones(2), np.zeros(2)])[1] == ["0"]


ALIASING = '''
def same(x):
    return x

def view(x):
    return x[:, :1]

def copy(x):
    return x.copy()

def state_back(x, state):
    return x + 1, state

def entry_back(x, state):
    return x + 1, {"mean": state["mean"]}

def forward(x):
    return 2 * x, (x,)                       # the cache holds x: opaque, not an alias
'''


def test_the_worker_reports_a_result_that_is_an_input(tmp_path):
    folder = package(tmp_path, aliasing=ALIASING)
    x, state = np.ones((2, 3)), {"mean": np.zeros(3)}
    with Student(folder, Limits(call_seconds=10.0, cpu_seconds=10.0)) as s:
        def aliases(name, *args, opaque=()):
            return s.call_full(f"aliasing.{name}", *args, opaque=opaque)[1].aliases

        assert aliases("same", x) == [("result", "0")]
        assert aliases("view", x) == [("result", "0")]
        assert aliases("copy", x) == []
        assert aliases("state_back", x, state) == [("result[1]", "1"),
                                                   ("result[1]['mean']", "1['mean']")]
        assert aliases("entry_back", x, state) == [("result[1]['mean']", "1['mean']")]
        assert aliases("forward", x, opaque=[1]) == []
        # call() does not watch: nothing is looked for
        assert s.call_full("aliasing.same", x, _watch=False)[1].aliases == []
        trial = Trial(s, oracle())
        trial.returns_new("aliasing.copy", s.call_full("aliasing.copy", x)[1])
        with pytest.raises(Failed) as info:
            trial.returns_new("aliasing.state_back", s.call_full("aliasing.state_back", x,
                                                                 state)[1],
                              ("x", "state"), "eval mode")
    assert info.value.message.startswith("state_back(eval mode): result[1] is its input state "
                                         "itself (or a view of it), not a new object")
    assert "x.copy(), dict(state)" in info.value.hint


def test_a_change_deep_inside_an_argument_is_named_by_the_argument():
    trial = Trial(FakeStudent(namespace(TOY)), oracle())
    with pytest.raises(Failed) as info:
        trial.no_input_modified("detection.mean_average_precision",
                                ["0[0][1]", "0[1][1]", "1", "2['k']", "0[2][1]", "0[3][1]"],
                                ("detections", "ground_truths"), "2 images")
    assert info.value.message.startswith(
        "mean_average_precision(2 images): modified its input detections[0][1], "
        "detections[1][1], ground_truths, 3 more in place")


def test_entries_assigned_or_removed_are_named_apart_from_arrays_changed():
    trial = Trial(FakeStudent(namespace(TOY)), oracle())
    with pytest.raises(Failed) as info:
        trial.no_input_modified("optim.adam", ["1['m'] (assigned)", "1['t'] (removed)"],
                                ("w", "config"), "first step")
    assert "changed a dict it was given (assigned config['m']; removed config['t'])" in \
        info.value.message


def test_a_unit_whose_module_has_no_spec_is_named_in_a_warning(monkeypatch):
    monkeypatch.setitem(units.UNITS, "99_future", ("Future", ["linear", "no_such_module"]))
    with pytest.warns(UserWarning, match="99_future.*'no_such_module'.*no_such_module.py"):
        available = units.available_units()
    assert "99_future" not in available and "01_linear" in available
