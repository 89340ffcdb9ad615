"""Every layer declared with the spec toolkit, found from the specs: on every case of its spec
(public and hidden), the reference backward agrees with a numerical gradient of the reference
forward, and the reference forward leaves its inputs (a state dict included) unchanged.

A new layer gets this reference test by being declared with ``toolkit.Layer``; a PyTorch
comparison in ``test_unitNN_reference.py`` is still the stronger check of the forward itself.
"""

import copy

import numpy as np
import pytest

from autograder.oracle import load_reference
from autograder.spec import Trial
from autograder.specs import toolkit
from autograder.units import available_units, specs_of

SPECS = [spec for unit in available_units() for spec in specs_of(unit)]
LAYERS = [layer for layer in toolkit.LAYERS.values() if any(layer.spec is s for s in SPECS)]
SAMPLES = 16  # entries of each input whose derivative is checked
STEP = 1e-6


def function(target):
    module, _, name = target.partition(".")
    return getattr(getattr(load_reference(), module), name)


def numerical(forward, inputs, kwargs, index, dout, entries):
    """d sum(out * dout) / d inputs[index] at ``entries``, by central differences."""
    x = inputs[index]
    grads = []
    for entry in entries:
        h = STEP * max(1.0, abs(float(x[entry])))
        values = []
        for sign in (1, -1):
            moved = list(inputs)
            moved[index] = x.copy()
            moved[index][entry] += sign * h
            values.append(float(np.sum(forward(*toolkit.fresh(moved),
                                               **toolkit.fresh(kwargs))[0] * dout)))
        grads.append((values[0] - values[1]) / (2 * h))
    return np.array(grads)


def differentiated(layer, inputs):
    """The indices of the inputs the gradients are of: by name ('dgamma' is the gradient of
    'gamma'), else every floating-point array input in order."""
    names = list(layer.argnames)
    by_name = [names.index(g[1:]) for g in layer.grads if g.startswith("d") and g[1:] in names]
    if len(by_name) == len(layer.grads):
        return by_name
    return [i for i, a in enumerate(inputs) if isinstance(a, np.ndarray) and a.dtype.kind == "f"]


def test_every_layer_of_units_02_and_03_is_declared():
    declared = {layer.forward for layer in LAYERS}
    assert {f"layers.{name}_forward" for name in
            ("affine", "relu", "sigmoid", "tanh", "leaky_relu", "elu")} <= declared
    assert {f"conv.{name}" for name in
            ("conv_forward_naive", "conv_forward", "max_pool_forward_naive", "max_pool_forward",
             "avg_pool_forward", "global_avg_pool_forward")} <= declared


@pytest.mark.parametrize("layer", LAYERS, ids=[f"{layer.forward}" for layer in LAYERS])
def test_reference_backward_matches_numerical_gradient(layer):
    forward, backward = function(layer.forward), function(layer.backward)
    rng = np.random.default_rng(0)
    cases = layer.cases(Trial(None, None))
    assert cases, f"{layer.forward} has no cases"
    for case in cases:
        inputs, dout = layer.split(case)
        inputs = list(inputs)
        before = copy.deepcopy(inputs)
        # overflow and invalid values are bugs; an exp that underflows to 0 is not (the
        # sigmoid of -800 computed stably as exp(-800) / (1 + exp(-800)))
        with np.errstate(all="raise", under="ignore"):
            result = forward(*toolkit.fresh(inputs), **toolkit.fresh(case.kwargs))
            grads = backward(dout, result[1])
        for a, b in zip(inputs, before):
            if isinstance(b, dict):
                assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in b)
            else:
                np.testing.assert_array_equal(a, b, err_msg=f"{layer.forward} changed an input")
        grads = grads if isinstance(grads, tuple) else (grads,)
        arrays = differentiated(layer, inputs)
        assert len(grads) == len(arrays) == len(layer.grads), (layer.backward, case.label)
        for index, grad, name in zip(arrays, grads, layer.grads):
            x = inputs[index]
            assert grad.shape == x.shape, (layer.backward, case.label, name)
            flat = rng.choice(x.size, size=min(SAMPLES, x.size), replace=False)
            entries = [np.unravel_index(int(i), x.shape) for i in flat]
            expected = numerical(forward, inputs, case.kwargs, index, dout, entries)
            got = np.array([grad[e] for e in entries])
            scale = max(1.0, float(np.max(np.abs(grad))))
            np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6 * scale,
                                       err_msg=f"{layer.backward} {name}, case {case.label}")
