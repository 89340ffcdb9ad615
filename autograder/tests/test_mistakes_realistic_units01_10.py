"""Realistic student mistakes in units 01-10, each graded as a submission.

Each case is the reference with one function rewritten the way a student who half understands
the lecture writes it (the probs[:, y] of NumPy's fancy indexing, the padding all on one side,
batch norm normalizing with the freshly updated running averages, dropout keeping 1 - p but
scaling by 1 / p, Adam's bias corrections swapped, NMS against the last kept box only, the AP
envelope taken from the wrong end, an LSTM output gate through tanh, BPTT stopping before step
0, a GAN generator step on the detached fakes...). Every one must cost the function its points;
where the verdict names the mistake, its hint (autograder/mistakes/<module>.py, or the spec for
dropout and the training loops) must be shown, else the message must say what broke.

Cases of one group are graded together, in one submission (their functions do not call each
other, and none is the forward whose cache another's backward reads), so that the file stays
fast: one grading run per group, shared by its cases through a module-scoped fixture.
"""

import textwrap
from pathlib import Path

import pytest

from autograder.units import UNITS as COURSE_UNITS

from .submissions import grader_by_group, make_submission

UNITS = {"01": "01_linear", "02": "02_mlp", "03": "03_cnn", "04": "04_normalization",
         "05": "05_optim", "06": "06_architectures", "07": "07_segmentation",
         "08": "08_detection", "09": "09_rnn", "10": "10_generative"}

# name: (group, unit, module, key, edits, "hint" or "message", words); edits: [(old, new)]
# replacements of the first occurrence in the reference, or a string: a function appended to
# the module (later definitions win)
CASES = {
    '01 softmax_vec: probs[:, y] instead of probs[rows, y]': (
        '01a', '01', 'linear.py', 'linear.softmax_loss_vectorized',
        [
            ('    loss = -log_probs[rows, y].sum() / num_train + reg',
             '    loss = -log_probs[:, y].mean() + reg'),
            ('    dscores[rows, y] -= 1.0  # dL/ds',
             '    dscores[:, y] -= 1.0  # dL/ds'),
        ],
        'hint', "probs[:, y] is an N x N block (every row at every example's"),
    '01 svm_naive: correct class column -x_i once per example': (
        '01a', '01', 'linear.py', 'linear.svm_loss_naive',
        [
            ('                dW[:, y[i]] -= X[i]\n',
             '                hit = True\n'),
            ('        correct = scores[y[i]]\n',
             '        correct = scores[y[i]]\n'
             '        hit = False\n'),
            ('    loss = loss / num_train + reg * float((W * W).sum())\n'
             '    dW = dW / num_train + 2 * reg * W\n'
             '    # END SOLUTION\n'
             '    return float(loss), dW\n'
             '\n'
             '\n'
             'def svm_loss_vectorized',
             '        if hit:\n'
             '            dW[:, y[i]] -= X[i]\n'
             '    loss = loss / num_train + reg * float((W * W).sum())\n'
             '    dW = dW / num_train + 2 * reg * W\n'
             '    # END SOLUTION\n'
             '    return float(loss), dW\n'
             '\n'
             '\n'
             'def svm_loss_vectorized'),
        ],
        'hint', "subtract x_i from the correct class's column dW[:, y[i]]"),
    '01 svm_vec: gradient mask built before zeroing the correct class': (
        '01a', '01', 'linear.py', 'linear.svm_loss_vectorized',
        [
            ('    margins[rows, y] = 0.0  # the correct class contributes no margin\n',
             '    coeff = (margins > 0).astype(X.dtype)\n'
             '    margins[rows, y] = 0.0\n'),
            ('    coeff = (margins > 0).astype(X.dtype)\n'
             '    coeff[rows, y] = -coeff.sum(axis=1)',
             '    coeff[rows, y] = -coeff.sum(axis=1)'),
        ],
        'hint', "the correct class's own margin, s_y - s_y + 1 = 1, is"),
    '01 train: minibatches without replacement': (
        '01a', '01', 'linear.py', 'linear.LinearClassifier',
        [
            ('rng.choice(num_train, batch_size, replace=True)',
             'rng.choice(num_train, batch_size, replace=False)'),
        ],
        'message', 'Cannot take a larger sample than population'),
    '01 train: full batch every step': (
        '01b', '01', 'linear.py', 'linear.LinearClassifier',
        [
            ('loss, dW = self.loss(X[idx], y[idx], reg)',
             'loss, dW = self.loss(X, y, reg)'),
        ],
        'hint', 'call self.loss(X[idx], y[idx], reg) once per iteration, idx'),
    '02 bce_with_logits: x - x*t + log(1+exp(-x)) without abs': (
        '02a', '02', 'losses.py', 'losses.bce_with_logits_loss',
        [
            ('    loss = (xp.maximum(logits, 0) - logits * target\n'
             '            + xp.log1p(xp.exp(-xp.abs(logits)))).sum() / size',
             '    loss = (logits - logits * target + xp.log1p(xp.exp(-logits))).sum() / size'),
        ],
        'hint', 'x - x * target + log(1 + exp(-x)) is exact but exp(-x)'),
    '02 softmax_loss: logsumexp over the whole batch (no axis)': (
        '02b', '02', 'losses.py', 'losses.softmax_loss',
        [
            ('    log_probs = shifted - xp.log(xp.exp(shifted).sum(axis=1, keepdims=True))\n'
             '    loss = -log_probs[rows, y].sum() / num',
             '    log_probs = shifted - xp.log(xp.exp(shifted).sum(axis=1, keepdims=True))\n'
             '    loss = -(shifted[rows, y] - xp.log(xp.exp(shifted).sum())).sum() / num'),
        ],
        'hint', 'the log of the sum of exp is per example: sum exp over the'),
    '02 sigmoid_backward: sigmoid applied again to the cached output': (
        '02a', '02', 'layers.py', 'layers.sigmoid_backward',
        [
            ('    out = cache\n'
             '    dx = dout * out * (1.0 - out)',
             '    out = 1.0 / (1.0 + xp_of(cache).exp(-cache))\n'
             '    dx = dout * out * (1.0 - out)'),
        ],
        'hint', 'the cache already holds s = sigmoid(x): do not apply the'),
    '02 FCN backward: loop stops before layer 1': (
        '02c', '02', 'mlp.py', 'mlp.FullyConnectedNet',
        [
            ('        for layer in range(num_layers - 1, 0, -1):',
             '        for layer in range(num_layers - 1, 1, -1):'),
        ],
        'message', "a dict was asked for the key 'W1'"),
    '03 max_pool_backward_naive: every tied maximum gets dout': (
        '03a', '03', 'conv.py', 'conv.max_pool_backward_naive',
        [
            ('                    k, l = divmod(int(window.argmax()), pool_size)\n'
             '                    dx[n, c, top + k, left + l] += dout[n, c, i, j]\n'
             '    # END SOLUTION\n'
             '    return dx\n'
             '\n'
             '\n'
             'def max_pool_forward(',
             '                    mask = window == window.max()\n'
             '                    dx[n, c, top:top + pool_size, left:left + pool_size] '
             '+= mask * dout[n, c, i, j]\n'
             '    # END SOLUTION\n'
             '    return dx\n'
             '\n'
             '\n'
             'def max_pool_forward('),
        ],
        'hint', "on ties give the window's gradient to one maximum (the"),
    '03 conv_forward_naive: all the padding on the bottom and right': (
        '03a', '03', 'conv.py', 'conv.conv_forward_naive',
        [
            ('    xpad = xp.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))\n'
             '    out = xp.zeros((N, F, H_out, W_out)',
             '    xpad = xp.pad(x, ((0, 0), (0, 0), (0, 2 * pad), (0, 2 * pad)))\n'
             '    out = xp.zeros((N, F, H_out, W_out)'),
        ],
        'hint', 'the padding goes on both sides: `pad` zeros above and below'),
    '03 conv_backward_naive: dw from the unpadded x': (
        '03b', '03', 'conv.py', 'conv.conv_backward_naive',
        [
            ('                    dw[f] += g * xpad[n, :, top:top + HH, left:left + WW]',
             '                    dw[f] += g * x[n, :, top:top + HH, left:left + WW]'),
        ],
        'message', 'do not line up from the right'),
    '03 max_pool_forward: reshape trick that assumes stride == pool_size': (
        '03a', '03', 'conv.py', 'conv.max_pool_forward',
        '\n'
        'def max_pool_forward(x, *, pool_size=2, stride=2):\n'
        '    N, C, H, W = x.shape\n'
        '    Ho, Wo = H // pool_size, W // pool_size\n'
        '    blocks = x[:, :, :Ho * pool_size, :Wo * pool_size].reshape(N, C, Ho, '
        'pool_size, Wo, pool_size)\n'
        '    out = blocks.max(axis=(3, 5))\n'
        '    return out, (x, pool_size, stride, out)\n',
        'hint', 'the window must move by `stride`, which can differ from'),
    '04 batchnorm_forward: training normalizes with the updated running stats': (
        '04a', '04', 'normalization.py', 'normalization.batchnorm_forward',
        [
            ('        std = xp.sqrt(var + eps)\n'
             '        xhat = xc / std\n'
             '        new_state',
             '        std = xp.sqrt(momentum * running_var + (1 - momentum) * var + eps)\n'
             '        xhat = (x - (momentum * running_mean + (1 - momentum) * mu)) / std\n'
             '        new_state'),
        ],
        'hint', "in training mode normalize with this batch's own mean and"),
    '04 dropout_forward: keep with prob 1 - p but scale by 1 / p': (
        '04a', '04', 'regularization.py', 'regularization.dropout_forward',
        [
            ('        scaled_mask = keep.astype(x.dtype) / (1 - p)',
             '        scaled_mask = keep.astype(x.dtype) / p'),
        ],
        'hint', 'the units are dropped with probability p, as they should'),
    '04 RegularizedNet: dropout also in test mode': (
        '04b', '04', 'regularization.py', 'regularization.RegularizedNet',
        [
            ('            if train and self.dropout > 0:\n'
             '                h, cache_drop = dropout_forward(h, p=self.dropout, '
             'train=True, rng=self.rng)',
             '            if self.dropout > 0:\n'
             '                h, cache_drop = dropout_forward(h, p=self.dropout, '
             'train=True, rng=self.rng)'),
        ],
        'hint', 'loss(X) is test mode: dropout is off there (the identity),'),
    '04 random_crop: reflection padding instead of zeros': (
        '04a', '04', 'augmentation.py', 'augmentation.random_crop',
        [
            ('    padded = xp.pad(images, ((0, 0), (0, 0), (padding, padding), ('
             'padding, padding)))',
             '    padded = xp.pad(images, ((0, 0), (0, 0), (padding, padding), ('
             "padding, padding)), mode='reflect')"),
        ],
        'message', 'padded with 1 zeros'),
    "05 adam: bias corrections with each other's beta": (
        '05a', '05', 'optim.py', 'optim.adam',
        [
            ('    m_hat = m / (1 - beta1 ** t)\n'
             '    v_hat = v / (1 - beta2 ** t)',
             '    m_hat = m / (1 - beta2 ** t)\n'
             '    v_hat = v / (1 - beta1 ** t)'),
        ],
        'hint', 'the bias corrections are swapped: m (the average of g,'),
    '05 adam: only m bias-corrected': (
        '05b', '05', 'optim.py', 'optim.adam',
        [
            ('    v_hat = v / (1 - beta2 ** t)\n',
             '    v_hat = v\n'),
        ],
        'hint', 'v needs its bias correction too: sqrt(v / (1 - beta2**t)),'),
    '05 nesterov: CS231n look-ahead form with lr in the velocity': (
        '05a', '05', 'optim.py', 'optim.nesterov',
        [
            ('    if "velocity" in config:\n'
             '        v = config["momentum"] * config["velocity"] + g\n'
             '    else:\n'
             '        v = g\n'
             '    next_w = w - config["learning_rate"] * (g + config["momentum"] * v)',
             '    mu = config["momentum"]\n'
             '    v_prev = config.get("velocity", 0 * w)\n'
             '    v = mu * v_prev - config["learning_rate"] * g\n'
             '    next_w = w - mu * v_prev + (1 + mu) * v'),
        ],
        'hint', 'the learning rate is inside the velocity (v = momentum * v'),
    '05 clip_grad_norm: scales the input arrays in place': (
        '05a', '05', 'optim.py', 'optim.clip_grad_norm',
        [
            ('    clipped = {name: g * scale for name, g in grads.items()}',
             '    for g in grads.values():\n'
             '        g *= scale\n'
             '    clipped = grads'),
        ],
        'hint', 'return a new dict of new arrays even when nothing is'),
    '06 ResidualBlock: convolutions with a bias before batch norm': (
        '06a', '06', 'architectures.py', 'architectures.ResidualBlock',
        [
            ('        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, '
             'stride=stride, padding=1,\n'
             '                               bias=False)',
             '        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, '
             'stride=stride, padding=1)'),
            ('        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, '
             'bias=False)\n'
             '        self.bn2 = nn.BatchNorm2d(out_channels)\n'
             '        self.shortcut = _shortcut(in_channels, out_channels, stride)',
             '        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1)\n'
             '        self.bn2 = nn.BatchNorm2d(out_channels)\n'
             '        self.shortcut = _shortcut(in_channels, out_channels, stride)'),
        ],
        'hint', 'conv1 and conv2 have no bias (bias=False): the batch norm'),
    '06 SEBlock: gates added instead of multiplied': (
        '06a', '06', 'architectures.py', 'architectures.SEBlock',
        [
            ('        out = x * self.gates(x)[:, :, None, None]',
             '        out = x + self.gates(x)[:, :, None, None]'),
        ],
        'hint', 'the gates scale the channels: out = x * g[:, :, None,'),
    '06 TransitionBlock: strided 1x1 convolution instead of average pooling': (
        '06a', '06', 'architectures.py', 'architectures.TransitionBlock',
        [
            ('            nn.Conv2d(in_channels, out_channels, kernel_size=1),\n'
             '            nn.AvgPool2d(2, stride=2),',
             '            nn.Conv2d(in_channels, out_channels, kernel_size=1, stride=2),'),
        ],
        'hint', 'the 3rd layer operation your forward runs (in layers.2) is'),
    '07 confusion_matrix: bincount without minlength': (
        '07b', '07', 'segmentation.py', 'segmentation.confusion_matrix',
        [
            ('    counts = bincount(pairs.ravel(), minlength=num_classes * num_classes)',
             '    counts = xp.bincount(pairs.ravel())'),
        ],
        'message', 'a reshape keeps the number of entries'),
    '07 pixel_accuracy: mean of the per-image accuracies': (
        '07a', '07', 'segmentation.py', 'segmentation.pixel_accuracy',
        [
            ('    accuracy = float((pred[keep] == target[keep]).sum()) / counted if '
             'counted else float("nan")',
             '    n = pred.shape[0]\n'
             '    hits = ((pred == target) & keep).reshape(n, -1).sum(axis=1)\n'
             '    per = hits / keep.reshape(n, -1).sum(axis=1)\n'
             '    accuracy = float(per.mean()) if counted else float("nan")'),
        ],
        'hint', "the mean of each image's accuracy: pool the pixels of the"),
    '07 dice_per_class: smoothing 1 added to the metric': (
        '07a', '07', 'segmentation.py', 'segmentation.dice_per_class',
        [
            ('    dice[present] = 2 * tp[present] / denominator[present]',
             '    dice[present] = (2 * tp[present] + 1) / (denominator[present] + 1)'),
        ],
        'hint', 'the Dice score has no smoothing: 2 TP / (2 TP + FP + FN)'),
    '08 box_iou: elementwise pairs instead of every pair': (
        '08b', '08', 'detection.py', 'detection.box_iou',
        [
            ('    left = xp.maximum(boxes1[:, None, 0], boxes2[None, :, 0])\n'
             '    top = xp.maximum(boxes1[:, None, 1], boxes2[None, :, 1])\n'
             '    right = xp.minimum(boxes1[:, None, 2], boxes2[None, :, 2])\n'
             '    bottom = xp.minimum(boxes1[:, None, 3], boxes2[None, :, 3])',
             '    left = xp.maximum(boxes1[:, 0], boxes2[:, 0])\n'
             '    top = xp.maximum(boxes1[:, 1], boxes2[:, 1])\n'
             '    right = xp.minimum(boxes1[:, 2], boxes2[:, 2])\n'
             '    bottom = xp.minimum(boxes1[:, 3], boxes2[:, 3])'),
            ('    union = area1[:, None] + area2[None, :] - inter',
             '    union = area1 + area2 - inter'),
        ],
        'message', 'do not line up from the right'),
    '08 nms: compared only with the last kept box': (
        '08a', '08', 'detection.py', 'detection.nms',
        [
            ('        if suppressed[i]:\n'
             '            continue\n'
             '        kept.append(i)\n'
             '        suppressed |= iou[i] > iou_threshold',
             '        if kept and iou[kept[-1], i] > iou_threshold:\n'
             '            continue\n'
             '        kept.append(i)'),
        ],
        'hint', 'compare each box with every box kept so far, not only with'),
    '08 average_precision: envelope taken from the left': (
        '08a', '08', 'detection.py', 'detection.average_precision',
        [
            ('        for k in range(p.shape[0] - 2, -1, -1):\n'
             '            p[k] = max(p[k], p[k + 1])',
             '        for k in range(1, p.shape[0]):\n'
             '            p[k] = max(p[k], p[k - 1])'),
        ],
        'hint', 'the envelope looks towards higher recall: each precision'),
    '09 lstm_step_forward: output gate through tanh': (
        '09a', '09', 'rnn.py', 'rnn.lstm_step_forward',
        [
            ('    o = _sigmoid(a[:, 3 * H:])',
             '    o = xp.tanh(a[:, 3 * H:])'),
        ],
        'hint', 'the output gate o is a gate, in (0, 1): it goes through the'),
    '09 rnn_backward: the loop stops before step 0': (
        '09a', '09', 'rnn.py', 'rnn.rnn_backward',
        [
            ('    for t in reversed(range(T)):\n'
             '        # the gradient of h_t',
             '    for t in reversed(range(1, T)):\n'
             '        # the gradient of h_t'),
        ],
        'hint', 'the loop must reach step 0 (reversed(range(T)), down to t ='),
    '09 rnn_forward: h[:, t] stores the state before the step': (
        '09b', '09', 'rnn.py', 'rnn.rnn_forward',
        [
            ('        prev, step_cache = rnn_step_forward(x[:, t], prev, Wx, Wh, b)\n'
             '        h[:, t] = prev',
             '        h[:, t] = prev\n'
             '        prev, step_cache = rnn_step_forward(x[:, t], prev, Wx, Wh, b)'),
        ],
        'hint', 'h[:, t] is the state after step t, h_t = tanh(x_t Wx +'),
    '10 gan_step: the generator step reuses the detached fakes': (
        '10a', '10', 'generative.py', 'generative.gan_step',
        [
            ('    g_loss = g_loss_fn(D(G(z)))',
             '    g_loss = g_loss_fn(D(fakes))'),
        ],
        'hint', "the generator's loss must flow back through D into G:"),
    "10 gan_step: the discriminator also stepped after the generator's backward": (
        '10b', '10', 'generative.py', 'generative.gan_step',
        [
            ('    g_optimizer.step()\n'
             '    # END SOLUTION',
             '    g_optimizer.step()\n'
             '    d_optimizer.step()\n'
             '    # END SOLUTION'),
        ],
        'hint', 'update the discriminator first, then the generator, once'),
    '10 vae_loss: KL summed over the batch, reconstruction averaged': (
        '10a', '10', 'generative.py', 'generative.vae_loss',
        [
            ('    kl = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp()) / n',
             '    kl = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())'),
        ],
        'hint', 'the KL is summed over the batch: divide it by N too, as you'),
}


def _submission(root, names):
    sub = make_submission(root)
    for name in names:
        _, _, module, _, edits, _, _ = CASES[name]
        path = Path(sub) / "coursework" / module
        text = path.read_text()
        if isinstance(edits, str):
            text += "\n\n" + textwrap.dedent(edits)
        else:
            for old, new in edits:
                assert old in text, (name, old)
                text = text.replace(old, new, 1)
        path.write_text(text)
    return sub


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """group -> {key: report entry}, graded once per group on first use."""
    def build(group, folder):
        names = [n for n, case in CASES.items() if case[0] == group]
        keys = {CASES[n][3] for n in names}
        assert len(keys) == len(names), f"group {group} grades a function twice"
        return _submission(folder, names), UNITS[CASES[names[0]][1]], keys

    return grader_by_group(tmp_path_factory, build)


@pytest.mark.parametrize("name", list(CASES))
def test_a_realistic_mistake_is_caught_and_explained(graded, name):
    group, unit, _, key, _, kind, words = CASES[name]
    if "torch" in getattr(COURSE_UNITS[UNITS[unit]], "packages", ()):
        pytest.importorskip("torch")
    entry = graded(group)[key]
    assert entry["status"] in ("failed", "error") and entry["score"] == 0, entry
    if kind == "hint":
        assert words in (entry["hint"] or ""), entry
    else:
        assert words in entry["message"], entry


def test_dropout_scaled_by_1_over_p_is_told_what_its_mask_shows():
    """Kept units scaled by 1 / p: with enough units the fraction dropped tells whether p was
    taken as the probability of keeping (about 1 - p dropped) or only the scale is wrong (about
    p dropped); with too few (RegularizedNet's 30 hidden units in one call) the hint says both."""
    from autograder.specs import regularization as spec

    assert spec._scaled_by_1_over_p(3000, 10000, 0.3) is spec.SCALED_BY_P
    assert spec._scaled_by_1_over_p(7000, 10000, 0.3) is spec.P_IS_KEEP
    assert spec._scaled_by_1_over_p(12, 30, 0.3) is spec.SCALED_BY_1_OVER_P
