"""Hidden cases of unit 05, optim (not in the student release)."""

import numpy as np

from ..spec import Case

# Hyperparameters at the edges of their ranges, per rule.
EDGE = {
    "sgd": {"learning_rate": 1.5, "weight_decay": 0.0},
    "sgd_momentum": {"learning_rate": 0.02, "momentum": 0.0, "weight_decay": 0.05},
    "nesterov": {"learning_rate": 0.02, "momentum": 0.99, "weight_decay": 0.0},
    "adagrad": {"learning_rate": 1.0, "epsilon": 0.5, "weight_decay": 0.0},
    "rmsprop": {"learning_rate": 0.001, "decay_rate": 0.5, "epsilon": 1e-6, "weight_decay": 0.3},
    "adadelta": {"learning_rate": 2.0, "decay_rate": 0.0, "epsilon": 1e-2, "weight_decay": 0.0},
    "adam": {"learning_rate": 0.2, "beta1": 0.0, "beta2": 0.9, "epsilon": 1e-4,
             "weight_decay": 0.0},
}


def rule_cases(rule, stream, custom):
    lr = custom["learning_rate"]
    schedule = [lr * 0.9 ** k for k in range(12)]
    cases = [
        Case("w (1,), 25 steps", ([stream(101, (1,), 25, custom)],)),
        Case(f"config {EDGE[rule]}, w (2, 5), 9 steps", ([stream(102, (2, 5), 9, EDGE[rule])],)),
        Case("the learning rate changed before every step, w (3,), 12 steps",
             ([stream(103, (3,), 12, custom, lrs=schedule)],)),
        Case("the learning rate set on the first call only, w (1, 1), 4 steps",
             ([stream(104, (1, 1), 4, None, lrs=[0.07, None, None, None])],)),
        Case("three parameters (a weight matrix, a bias, a 4-D filter) in turn, 4 steps",
             ([stream(105, (5, 3), 4, custom), stream(106, (3,), 4, custom),
               stream(107, (2, 1, 3, 3), 4, custom)],)),
        Case("large weights (about 100) with weight decay, w (4,), 6 steps",
             ([stream(108, (4,), 6, dict(custom, weight_decay=0.5), w_scale=100.0)],)),
        Case("gradients of constant sign, w (2, 2), 10 steps",
             ([dict(stream(109, (2, 2), 10, custom), dws=np.abs(
                 np.random.default_rng(110).standard_normal((10, 2, 2))) + 0.5)],)),
    ]
    if rule == "adam":
        cases.append(Case("AdamW with beta1=0.5, beta2=0.9, weight_decay=0.01, w (6,), 8 steps",
                          ([stream(111, (6,), 8, {"learning_rate": 0.01, "beta1": 0.5,
                                                  "beta2": 0.9, "weight_decay": 0.01,
                                                  "decoupled": True})],)))
        cases.append(Case("decoupled=False with weight_decay=0.3 (L2 in the gradient)",
                          ([stream(112, (3,), 5, {"learning_rate": 0.05, "weight_decay": 0.3,
                                                  "decoupled": False}, w_scale=2.0)],)))
    return cases


def clip_cases():
    rng = np.random.default_rng(120)
    many = {f"p{i}": rng.standard_normal(shape)
            for i, shape in enumerate([(3, 4), (4,), (2, 1, 3, 3), (1,), (5, 2)])}
    return [
        Case("five arrays of different shapes, max_norm=0.1", (many, 0.1)),
        Case("five arrays, max_norm just below their norm", (many, 5.0)),
        Case("large gradients (norm about 3000), max_norm=1",
             ({"a": 1000 * rng.standard_normal((3, 3)), "b": rng.standard_normal(2)}, 1.0)),
        Case("one zero array beside a non-zero one, max_norm=0.5",
             ({"zero": np.zeros(4), "w": 3 * rng.standard_normal((2, 2))}, 0.5)),
        # a norm below 1 is clipped too (kept above 0.1: PyTorch's total_norm + 1e-6 stays
        # within CLIP_RTOL)
        Case("gradients of norm about 0.6 (below 1), max_norm=0.1",
             ({"W": 0.15 * rng.standard_normal((4, 3)), "b": 0.15 * rng.standard_normal(3)},
              0.1)),
    ]


def schedule_cases(name):
    if name == "step_decay":
        return [Case("lr0=0.3, step_size=4, gamma=2.0 (a rising rate)",
                     ({"lr0": 0.3, "step_size": 4, "gamma": 2.0}, [0, 3, 4, 8, 13])),
                Case("lr0=0.01, step_size=100", ({"lr0": 0.01, "step_size": 100},
                                                 [0, 99, 100, 250, 1000]))]
    if name == "exponential_decay":
        return [Case("lr0=0.5, gamma=1.0 (constant)", ({"lr0": 0.5, "gamma": 1.0}, [0, 5, 50])),
                Case("lr0=1e-3, gamma=0.95", ({"lr0": 1e-3, "gamma": 0.95}, list(range(0, 60, 7))))]
    if name == "cosine_annealing":
        return [Case("total_steps=1", ({"lr0": 0.4, "total_steps": 1}, [0, 1, 2])),
                Case("warmup_steps=1, total_steps=5, lr_min=lr0",
                     ({"lr0": 0.1, "total_steps": 5, "lr_min": 0.1, "warmup_steps": 1},
                      list(range(7)))),
                Case("lr0=1.0, total_steps=100, warmup_steps=10, lr_min=0.01",
                     ({"lr0": 1.0, "total_steps": 100, "lr_min": 0.01, "warmup_steps": 10},
                      [0, 5, 9, 10, 11, 55, 99, 100, 150]))]
    raise KeyError(name)


def plateau_cases():
    return [
        Case("mode='max', patience=3, factor=0.9, slowly improving then stuck",
             ({"lr0": 0.05, "patience": 3, "factor": 0.9, "mode": "max"},
              [0.1, 0.2, 0.3, 0.3, 0.31, 0.31, 0.31, 0.31, 0.31, 0.2, 0.2, 0.2, 0.2, 0.32])),
        Case("mode='min', patience=1, negative metrics",
             ({"lr0": 1.0, "patience": 1, "factor": 0.3},
              [-1.0, -2.0, -2.0, -1.5, -3.0, -3.0, -3.0, -2.9, -2.9])),
    ]
