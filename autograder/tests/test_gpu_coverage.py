"""The GPU suite's table covers every graded NumPy function (runs everywhere, without a GPU).

``test_gpu.py`` runs each entry of its FORWARD table (and the backward passes of BACKWARD) on
CuPy against the CPU. A reference function missing there would never run on the GPU, and no
machine without a GPU would notice: this test derives the functions from the specs' registered
keys ("module.function") of the NumPy units and fails naming any the table leaves out.
"""

import pytest

from autograder.units import available_units, packages_of_module, specs_of

from .test_gpu import BACKWARD, FORWARD

# The modules graded in a NumPy-only worker run on CuPy; those that may import PyTorch (units 06
# and 10, segnets, detectors) run CUDA tensors instead and are not in the table. Read from
# units.py, so that a new NumPy unit's functions are required here without a list to edit.
# Graded keys that are not array functions, each with why it is not in the table.
NOT_ARRAY_FUNCTIONS = {
    # Classes: their loss/gradient methods call the table's functions; FullyConnectedNet and
    # ThreeLayerConvNet run on the GPU in test_models_loss_and_gradients_on_gpu.
    "linear.LinearClassifier": "class (training loop over linear.*_loss_vectorized)",
    "mlp.TwoLayerNet": "class (layers.* and losses.softmax_loss)",
    "mlp.FullyConnectedNet": "class (test_models_loss_and_gradients_on_gpu)",
    "cnn.ThreeLayerConvNet": "class (test_models_loss_and_gradients_on_gpu)",
    "cnn.LeNet5": "class (conv.* and layers.*)",
    "regularization.RegularizedNet": "class (regularization.* and layers.*)",
    "regularization.EarlyStopping": "class keeping Python floats of validation scores",
    "optim.ReduceOnPlateau": "class keeping Python floats of a learning rate",
    "rnn.CharRNN": "class (rnn.* forward and backward passes)",
    "rnn.CharRNN.sample": "draws characters one by one with a NumPy generator on the host",
    # Numbers in, numbers out.
    "conv.conv_output_size": "ints to an int",
    "cnn.count_parameters": "a model to an int (the sizes of its params)",
    "optim.step_decay": "learning-rate schedule: a step number to a float",
    "optim.exponential_decay": "learning-rate schedule: a step number to a float",
    "optim.cosine_annealing": "learning-rate schedule: a step number to a float",
}


def _graded_keys():
    keys = set()
    for unit in available_units():
        for spec in specs_of(unit):
            if "torch" not in packages_of_module(spec.module):
                keys.update(spec.tests)
    return keys


def _covered():
    covered = set()
    for key in FORWARD:
        key = key.split("#")[0]
        covered.add(key)
        names = BACKWARD.get(key, ())
        module = key.split(".")[0]
        covered.update(f"{module}.{n}" for n in ((names,) if isinstance(names, str) else names))
    return covered


def test_every_graded_numpy_function_runs_on_the_gpu():
    graded = _graded_keys()
    assert graded, "no spec found for the NumPy units"
    missing = sorted(graded - _covered() - set(NOT_ARRAY_FUNCTIONS))
    assert not missing, (
        f"not in test_gpu.py's FORWARD table (nor a backward pass of BACKWARD): {missing}; add "
        "inputs for each, or, for what is not an array function, an entry with the reason to "
        "NOT_ARRAY_FUNCTIONS here")


def test_the_exclusions_and_the_table_name_graded_functions():
    graded = _graded_keys()
    stale = sorted(k for k in NOT_ARRAY_FUNCTIONS
                   if k.split(".")[0] in {key.split(".")[0] for key in graded}
                   and k not in graded)
    assert not stale, f"NOT_ARRAY_FUNCTIONS names keys no spec grades: {stale}"
    overlap = sorted(set(NOT_ARRAY_FUNCTIONS) & _covered())
    assert not overlap, f"both in the table and excluded: {overlap}"
    unknown = sorted(k for k in _covered() if k.split(".")[0] in {g.split(".")[0] for g in graded}
                     and k not in graded)
    assert not unknown, f"the table names functions no spec grades: {unknown}"


@pytest.mark.parametrize("module", ["segmentation", "detection"])
def test_units_07_and_08_numpy_modules_are_in_the_table(module):
    assert any(k.startswith(f"{module}.") for k in FORWARD), module
