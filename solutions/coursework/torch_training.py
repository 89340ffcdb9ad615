"""Training and measuring PyTorch networks (provided code for units 06 onward: you do not edit it).

- ``fit``: mini-batch training with a tqdm progress bar, loss and accuracy histories, and early
  stopping that restores the best weights;
- ``accuracy``: the fraction of correct predictions, in eval mode;
- ``count_parameters``, ``multiply_adds``, ``layer_table``: the size and cost of a network,
  measured by running it once (hooks on its convolution and linear layers);
- ``gradient_norms``: the gradient norm of every weight after one backward pass.

Inputs are NumPy arrays or tensors: images X (N, C, H, W) and integer labels y (N,).
"""

import copy
import math
import numbers

import numpy as np
import torch
from torch import nn


def _tensor(a, dtype=None):
    t = a if isinstance(a, torch.Tensor) else torch.as_tensor(np.asarray(a))
    return t.to(dtype) if dtype is not None else t


def _check_data(name, what, X, y):
    """X (N, ...) and labels y (N,) of one length: a one-hot y (N, K) or a y of another split
    would otherwise fail deep inside the loss or the indexing, naming neither."""
    for arg, a in (("X", X), ("y", y)):
        if not hasattr(a, "shape") and not isinstance(a, (list, tuple)):
            raise TypeError(f"{name}: {what}{arg} must be an array or a tensor, got "
                            f"{type(a).__name__}")
    y_shape = tuple(np.shape(y))
    if len(y_shape) != 1:
        raise ValueError(f"{name}: {what}y must be the class indices (N,), got shape {y_shape}"
                         + (" (one-hot labels? y.argmax(1) gives the indices)"
                            if len(y_shape) == 2 else ""))
    if len(X) != y_shape[0]:
        raise ValueError(f"{name}: {what}X has {len(X)} examples but {what}y has {y_shape[0]} "
                         "labels")


def _check_batch_size(name, batch_size):
    if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral) \
            or batch_size < 1:
        raise ValueError(f"{name}: batch_size must be a positive integer, got {batch_size!r}")


def _model_dtype(model):
    for p in model.parameters():
        return p.dtype
    return torch.get_default_dtype()


@torch.no_grad()
def predict(model, X, *, batch_size=256):
    """Class scores (N, K) of ``model`` on X, in eval mode (the mode is restored after)."""
    was_training = model.training
    model.eval()
    X = _tensor(X, _model_dtype(model))
    scores = torch.cat([model(X[i:i + batch_size]) for i in range(0, len(X), batch_size)])
    model.train(was_training)
    return scores


def accuracy(model, X, y, *, batch_size=256):
    """Fraction of the examples whose highest score is their label (eval mode)."""
    _check_data("accuracy", "", X, y)
    scores = predict(model, X, batch_size=batch_size)
    return float((scores.argmax(dim=1) == _tensor(y).long()).double().mean())


def fit(model, train, val=None, *, epochs=10, lr=1e-3, batch_size=64, weight_decay=0.0,
        optimizer="adam", cosine=False, patience=None, seed=0, progress=True, desc="training"):
    """Train ``model`` with cross-entropy on ``train = (X, y)``; return its history.

    Each epoch shuffles the training set (with a ``torch.Generator`` seeded by ``seed``) and
    takes one optimizer step per mini-batch: ``"adam"``, or ``"sgd"`` with momentum 0.9; with
    ``cosine`` the learning rate follows a cosine from ``lr`` down to 0 over all the steps.
    After each epoch it records the mean training loss, the training accuracy measured during
    the epoch, and the validation accuracy on ``val = (X, y)`` (eval mode). With ``patience``,
    training stops after that many epochs without a better validation accuracy, and the
    weights of the best epoch are put back. Only parameters with ``requires_grad`` are trained
    (see ``architectures.freeze``).

    Returns a dict of lists ``loss``, ``train_acc``, ``val_acc`` (one entry per epoch) and
    ``best_epoch`` (0-based; the last epoch without ``val``).
    """
    if optimizer not in ("adam", "sgd"):
        raise ValueError(f"fit: optimizer must be 'adam' or 'sgd', got {optimizer!r}")
    for name, split in (("train", train), ("val", val)):
        if split is not None and (not isinstance(split, (tuple, list)) or len(split) != 2):
            raise TypeError(f"fit: {name} must be a pair (X, y), got {type(split).__name__}")
        if split is not None:
            _check_data("fit", f"{name} ", *split)
    _check_batch_size("fit", batch_size)
    dtype = _model_dtype(model)
    X, y = _tensor(train[0], dtype), _tensor(train[1]).long()
    params = [p for p in model.parameters() if p.requires_grad]
    if optimizer == "adam":
        opt = torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    else:
        opt = torch.optim.SGD(params, lr=lr, momentum=0.9, weight_decay=weight_decay)
    batches = math.ceil(len(X) / batch_size)
    schedule = (torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs * batches)
                if cosine else None)
    generator = torch.Generator().manual_seed(seed)
    history = {"loss": [], "train_acc": [], "val_acc": [], "best_epoch": 0}
    best, best_state, waited = -math.inf, None, 0
    try:
        from tqdm.auto import tqdm
        bar = tqdm(total=epochs * batches, desc=desc, disable=not progress, leave=False)
    except ImportError:  # tqdm is a dependency of the course; stay usable without it
        bar = None
    for epoch in range(epochs):
        model.train()
        order = torch.randperm(len(X), generator=generator)
        total_loss = correct = 0.0
        for i in range(0, len(X), batch_size):
            idx = order[i:i + batch_size]
            scores = model(X[idx])
            loss = nn.functional.cross_entropy(scores, y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            if schedule is not None:
                schedule.step()
            total_loss += float(loss.detach()) * len(idx)
            correct += float((scores.argmax(dim=1) == y[idx]).sum())
            if bar is not None:
                bar.update(1)
        history["loss"].append(total_loss / len(X))
        history["train_acc"].append(correct / len(X))
        if val is not None:
            acc = accuracy(model, *val)
            history["val_acc"].append(acc)
            if bar is not None:
                bar.set_postfix(epoch=epoch + 1, val_acc=f"{acc:.3f}")
            if acc > best:
                best, waited, history["best_epoch"] = acc, 0, epoch
                best_state = copy.deepcopy(model.state_dict())
            else:
                waited += 1
                if patience is not None and waited >= patience:
                    break
        else:
            history["best_epoch"] = epoch
    if bar is not None:
        bar.close()
    if best_state is not None and patience is not None:
        model.load_state_dict(best_state)
    model.eval()
    return history


def count_parameters(model, *, trainable_only=False):
    """Number of scalar parameters of ``model`` (only those with requires_grad, if asked)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def layer_table(model, input_shape):
    """One row per convolution, linear, pooling and normalization layer met in a forward pass.

    ``input_shape`` is (C, H, W); the model runs once, in eval mode and without gradients, on
    one zero image of that shape (on the "meta" device when the model's parameters are there,
    so that even AlexNet costs nothing). Each row is a dict: ``name`` (as in
    ``named_modules``), ``layer`` (the class name with its kernel/stride), ``output`` (C, H, W)
    or (D,), ``params`` (its own parameters) and ``macs`` (multiply-adds for one image:
    output elements x inputs per output for convolutions, in x out features for linear layers,
    0 for the others).
    """
    rows, hooks = [], []
    kinds = (nn.Conv2d, nn.Linear, nn.MaxPool2d, nn.AvgPool2d, nn.AdaptiveAvgPool2d,
             nn.BatchNorm2d, nn.LocalResponseNorm)

    def hook(name):
        def record(module, inputs, output):
            out = tuple(output.shape[1:])
            params = sum(p.numel() for p in module.parameters(recurse=False))
            if isinstance(module, nn.Conv2d):
                k = module.kernel_size
                macs = math.prod(out) * (module.in_channels // module.groups) * k[0] * k[1]
                layer = f"conv {k[0]}x{k[1]}/{module.stride[0]}"
                if module.groups > 1:
                    layer += f" groups={module.groups}"
            elif isinstance(module, nn.Linear):
                macs, layer = module.in_features * module.out_features, "linear"
            else:
                macs, layer = 0, type(module).__name__
            rows.append({"name": name, "layer": layer, "output": out, "params": params,
                         "macs": macs})
        return record

    for name, module in model.named_modules():
        if isinstance(module, kinds):
            hooks.append(module.register_forward_hook(hook(name)))
    was_training = model.training
    model.eval()
    try:
        params = list(model.parameters())
        device = params[0].device if params else torch.device("cpu")
        dtype = params[0].dtype if params else torch.get_default_dtype()
        with torch.no_grad():
            model(torch.zeros((1, *input_shape), device=device, dtype=dtype))
    finally:
        for h in hooks:
            h.remove()
        model.train(was_training)
    return rows


def multiply_adds(model, input_shape):
    """Multiply-adds of one forward pass on one image of shape (C, H, W) (see layer_table)."""
    return sum(row["macs"] for row in layer_table(model, input_shape))


def weight_layers(model):
    """Number of convolution and linear layers: the depth as papers count it."""
    return sum(isinstance(m, (nn.Conv2d, nn.Linear)) for m in model.modules())


def gradient_norms(model, X, y):
    """The gradient norm of every convolution and linear weight after one backward pass of the
    cross-entropy on (X, y), in forward order: a list of (name, norm). Training mode; the
    gradients are cleared afterwards."""
    model.train()
    model.zero_grad()
    scores = model(_tensor(X, _model_dtype(model)))
    nn.functional.cross_entropy(scores, _tensor(y).long()).backward()
    out = [(name, float(module.weight.grad.norm()))
           for name, module in model.named_modules()
           if isinstance(module, (nn.Conv2d, nn.Linear)) and module.weight.grad is not None]
    model.zero_grad()
    return out
