"""Wrong implementations that independent examiners found the grader missing (or explaining
with the wrong hint): answers remembered from an earlier call, a gradient check perturbing a
copy, initialisations and dropouts a little off, a layer's order or pooling window changed, a
training step that zeroes or detaches the wrong thing; one per test: each now loses its points
with a message, and where it matters a hint, that names the problem.
Correct ones beside them keep full marks."""

import pytest

from autograder import engine

from .submissions import bwrap, graded_to_zero, make_submission, wrong_variant_graded_to_zero


WRONG = {
    # unit 01: an answer remembered by the shapes of the inputs
    "softmax loss remembered by shape": (
        "01_linear", "linear.softmax_loss_vectorized", {"linear.py": [(
            "def softmax_loss_vectorized(W, X, y, reg):",
            "_MEMO = {}\n\n\ndef softmax_loss_vectorized(W, X, y, reg):\n"
            "    key = (W.shape, X.shape, float(reg))\n"
            "    if key not in _MEMO:\n"
            "        _MEMO[key] = _softmax_loss(W, X, y, reg)\n"
            "    return _MEMO[key]\n\n\ndef _softmax_loss(W, X, y, reg):")]},
        "the first case's shapes with other values", None),
    # unit 02
    "relu_backward remembered by shape": (
        "02_mlp", "layers.relu_backward", {"layers.py": [(
            "    x = cache\n    dx = dout * (x > 0)",
            "    memo = relu_backward.__dict__.setdefault('memo', {})\n"
            "    if dout.shape not in memo:\n"
            "        memo[dout.shape] = dout * (cache > 0)\n"
            "    dx = memo[dout.shape].copy()")]},
        "the same shapes with new values of x and dout", None),
    "sigmoid as e / (1 + e)": (
        "02_mlp", "layers.sigmoid_forward", {"layers.py": [(
            "    e = xp.exp(-xp.abs(x))\n"
            "    out = xp.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))",
            "    e = xp.exp(x)\n    out = e / (1.0 + e)")]},
        "huge inputs", None),
    "numerical gradient perturbing x.reshape(-1)": (
        "02_mlp", "gradcheck.numerical_gradient", {"gradcheck.py": [(
            "    for index in itertools.product(*(range(n) for n in x.shape)):\n"
            "        old = x[index].item()\n"
            "        x[index] = old + h\n"
            "        f_plus = float(f(x))\n"
            "        x[index] = old - h\n"
            "        f_minus = float(f(x))\n",
            "    flat = x.reshape(-1)  # a view only when x is C-contiguous\n"
            "    for i, index in enumerate(itertools.product(*(range(n) for n in x.shape))):\n"
            "        old = flat[i].item()\n"
            "        flat[i] = old + h\n"
            "        f_plus = float(f(x))\n"
            "        flat[i] = old - h\n"
            "        f_minus = float(f(x))\n"
            "        flat[i] = old\n")]},
        "not C-contiguous", None),
    # the array checker had no non-contiguous x
    "numerical gradient array perturbing x.reshape(-1)": (
        "02_mlp", "gradcheck.numerical_gradient_array", {"gradcheck.py": [(
            "    for index in itertools.product(*(range(n) for n in x.shape)):\n"
            "        old = x[index].item()\n"
            "        x[index] = old + h\n"
            "        y_plus = xp.array(f(x))  # a copy: f may return a view that changes with x\n"
            "        x[index] = old - h\n"
            "        y_minus = xp.array(f(x))\n"
            "        x[index] = old\n",
            "    flat = x.reshape(-1)  # a view only when x is C-contiguous\n"
            "    for i, index in enumerate(itertools.product(*(range(n) for n in x.shape))):\n"
            "        old = flat[i].item()\n"
            "        flat[i] = old + h\n"
            "        y_plus = xp.array(f(x))\n"
            "        flat[i] = old - h\n"
            "        y_minus = xp.array(f(x))\n"
            "        flat[i] = old\n")]},
        "not C-contiguous", None),
    "relative_error with .astype (numbers have none)": (
        "02_mlp", "gradcheck.relative_error", {"gradcheck.py": [(
            "    a, b = xp.asarray(a, dtype=float), xp.asarray(b, dtype=float)",
            "    a, b = a.astype(float), b.astype(float)")]},
        "two Python floats", None),
    # unit 04
    "He scale from the input dimension for every layer": (
        "04_normalization", "regularization.RegularizedNet", {"regularization.py": [(
            "scale = np.sqrt(2.0 / fan_in) if weight_scale",
            "scale = np.sqrt(2.0 / input_dim) if weight_scale")]},
        "W2 has standard deviation", "sqrt(2 / fan_in)"),
    "dropout after the last hidden layer only": (
        "04_normalization", "regularization.RegularizedNet", {"regularization.py": [(
            "            if train and self.dropout > 0:",
            "            if train and self.dropout > 0 and layer == num_layers - 1:")]},
        "hidden layer 1 of 2", "not only after some of them"),
    "dropout of exactly round(p * size) units": (
        "04_normalization", "regularization.dropout_forward", {"regularization.py": [(
            "        keep = xp.asarray(rng.random(x.shape) >= p)  # True with probability 1 - p",
            "        dropped = rng.choice(x.size, int(round(p * x.size)), replace=False)\n"
            "        keep = xp.ones(x.size, dtype=bool)\n"
            "        keep[dropped] = False\n"
            "        keep = keep.reshape(x.shape)")]},
        "every call dropped exactly 300", "rng.random(x.shape) >= p"),
    # unit 05
    "ReduceOnPlateau reducing from lr0 each time": (
        "05_optim", "optim.ReduceOnPlateau", {"optim.py": [
            ("        self.lr = float(lr0)\n", "        self.lr = float(lr0)\n"
                                               "        self.lr0 = float(lr0)\n"),
            ("            self.lr *= self.factor",
             "            self.lr = self.lr0 * self.factor")]},
        "step 9", "not the initial one"),
    # unit 06
    "ResNet's scores squeezed (N=1 loses the batch axis)": (
        "06_architectures", "architectures.ResNet", {"architectures.py": [(
            "        scores = self.fc(torch.flatten(out, 1))",
            "        scores = self.fc(out.squeeze())")]},
        "should have shape (1, 3)", None),
    "ResNet pooled with a window of the map's width": (
        "06_architectures", "architectures.ResNet", {"architectures.py": [(
            "        out = self.pool(self.stages(self.stem(x)))\n"
            "        scores = self.fc(torch.flatten(out, 1))",
            "        out = self.stages(self.stem(x))\n"
            "        out = nn.functional.avg_pool2d(out, out.size(3))\n"
            "        scores = self.fc(out.view(out.size(0), -1))")]},
        # the same module then answers an input of another size, where the window
        # does not fit; the error names that input (it was labelled with the case before it)
        "on input (3, 2, 35, 38), eval mode, after inputs of shape (2, 2, 33, 35) (the docstring "
        "takes any H and W): RuntimeError", None),
    "freeze by whole module names": (
        "06_architectures", "architectures.freeze", {"architectures.py": [(
            "        if not name.startswith(prefixes):",
            "        if not any(name == p or name.startswith(p + '.') for p in prefixes):")]},
        "trainable=('se.fc',)", "not whole module names"),
    "VGG's classifier in AlexNet's order (a public case after the hidden ones)": (
        "06_architectures", "architectures.VGG", {"architectures.py": [(
            "            nn.Linear(channels * size * size, fc_dim), nn.ReLU(), "
            "nn.Dropout(dropout),\n"
            "            nn.Linear(fc_dim, fc_dim), nn.ReLU(), nn.Dropout(dropout),",
            "            nn.Dropout(dropout), nn.Linear(channels * size * size, fc_dim), "
            "nn.ReLU(),\n"
            "            nn.Dropout(dropout), nn.Linear(fc_dim, fc_dim), nn.ReLU(),")]},
        "dropout 0.5", None),
    # unit 08
    "YOLO cell by division by the cell width": (
        "08_detection", "detection.yolo_encode", {"detection.py": [(
            "        row = min(int(math.floor(cy * S)), S - 1)\n"
            "        col = min(int(math.floor(cx * S)), S - 1)",
            "        cell = 1.0 / S\n"
            "        row = min(int(cy // cell), S - 1)\n"
            "        col = min(int(cx // cell), S - 1)")]},
        "cell borders of a 10x10 grid", "cx // (1 / S)"),
    # unit 09
    "LSTM forward writing every step's cell state into one buffer": (
        "09_rnn", "rnn.lstm_backward", {"rnn.py": [(
            "    c = xp.zeros((N, H), dtype=dtype) if c0 is None else c0\n"
            "    prev = h0\n    steps = []\n    for t in range(T):\n"
            "        prev, c, step_cache = lstm_step_forward(x[:, t], prev, c, Wx, Wh, b)\n",
            "    c = xp.zeros((N, H), dtype=dtype) if c0 is None else c0.copy()\n"
            "    prev = h0\n    steps = []\n    for t in range(T):\n"
            "        prev, c_next, step_cache = lstm_step_forward(x[:, t], prev, c, Wx, Wh, b)\n"
            "        c[...] = c_next\n")]},
        "dx is wrong", "every step's cache keeps its own arrays"),
    # unit 10
    "gan_step zeroing d_optimizer in the generator step": (
        "10_generative", "generative.gan_step", {"generative.py": [(
            "    g_optimizer.zero_grad()\n    g_loss = g_loss_fn(D(G(z)))",
            "    d_optimizer.zero_grad()\n    g_loss = g_loss_fn(D(G(z)))")]},
        "G's gradients at g_optimizer.step()", "or d_optimizer zeroed in its place"),
    "gan_step detaching G(z) in the generator step": (
        "10_generative", "generative.gan_step", {"generative.py": [(
            "    g_loss = g_loss_fn(D(G(z)))", "    g_loss = g_loss_fn(D(G(z).detach()))")]},
        "no gradient reached the generator", "without detach()"),
}


@pytest.mark.parametrize("label", list(WRONG))
def test_wrong_variant_loses_its_points(tmp_path, label):
    entry = wrong_variant_graded_to_zero(tmp_path, *WRONG[label])
    assert "hidden case" not in entry["message"], entry


def test_the_examiners_mean_ap_variant_gets_its_own_hint_not_a_coinciding_one(tmp_path):
    """Counting the objects of class c only in images with a detection of c gives the same mAP
    on one case as averaging per-image APs; the per-image mistake answers an earlier case
    differently (which the student got right), so only the right hint is offered."""
    sub = make_submission(tmp_path, replace={"detection.py": [(
        "        num_gt = sum(int((gt[1] == c).sum()) for gt in ground_truths)\n"
        "        if num_gt == 0:\n"
        "            continue\n",
        "        if not any(bool((gt[1] == c).any()) for gt in ground_truths):\n"
        "            continue\n"
        "        num_gt = sum(int((gt[1] == c).sum()) for (_, _, labels), gt in "
        "zip(detections, ground_truths) if bool((labels == c).any()))\n")]})
    entry = graded_to_zero(sub, "08_detection", "detection.mean_average_precision", "mAP is",
                           "also in images without a detection of c",
                           use_bwrap=bwrap("08_detection"))
    assert "per-image" not in entry["hint"], entry
    report = engine.grade(sub, ["08_detection"], keys={"detection.coco_map",
                                                       "detection.mean_average_precision"})
    coco = report["units"]["08_detection"]["functions"]["detection.coco_map"]
    assert coco["status"] == "failed" and "calls your mean_average_precision" in coco["hint"]
