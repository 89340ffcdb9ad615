"""Unit 09: training language models with truncated backpropagation through time.

Provided code (not graded): read it, use it, do not edit it. A model is anything with
``params`` (a dict of arrays) and ``loss(x, y, h0=None) -> (loss, grads, h_last)``, like
``rnn.CharRNN``.

**Truncated BPTT.** Backpropagating through a sequence of a million characters would keep a
million steps of caches and multiply a million Jacobians. Instead the sequence is cut into chunks
of ``seq_len`` steps. The forward pass runs on over the chunk boundaries (the last hidden state of
one chunk is the initial state of the next, so the model still sees the whole past), but the
backward pass stops at the start of each chunk: gradients reach at most ``seq_len`` steps back.

**Clipping.** Gradients through many steps can explode; ``clip_grad_norm`` scales all of them
together when their global norm exceeds ``max_norm``, which keeps the direction of the step and
bounds its size.

Typical use::

    vocab = text.Vocabulary(corpus)
    train_ids, val_ids = text.split_ids(vocab.encode(corpus))
    model = rnn.CharRNN(vocab.size, 64, cell="lstm", rng=np.random.default_rng(0))
    history = bptt.train_bptt(model, train_ids, val_ids=val_ids, seq_len=32, batch_size=16,
                              num_steps=500, rng=np.random.default_rng(1))
    history["val_perplexity"][-1]
"""

import math
import numbers

import numpy as np

from .backend import xp_of


def clip_grad_norm(grads, max_norm):
    """Scale all gradients together so that their global L2 norm is at most ``max_norm``.

        total_norm = sqrt(sum over every array of sum(grad**2))
        clipped[name] = grads[name] * min(1, max_norm / total_norm)

    The same as unit 05's ``optim.clip_grad_norm``, provided here so that this unit does not
    depend on your unit-05 code.

    Returns:
        clipped: a new dict of new arrays. total_norm: the norm before clipping (a float).
    """
    if isinstance(max_norm, bool) or not isinstance(max_norm, numbers.Real) or not max_norm > 0:
        raise ValueError(f"clip_grad_norm: max_norm must be a number > 0, got {max_norm!r}")
    total_norm = math.sqrt(sum(float((g * g).sum()) for g in grads.values()))
    scale = min(1.0, max_norm / total_norm) if total_norm > 0 else 1.0
    return {name: g * scale for name, g in grads.items()}, total_norm


class Adam:
    """The Adam update rule (Kingma and Ba, 2015), one state per parameter (unit 05 derives it).

        m <- beta1 m + (1 - beta1) g,  v <- beta2 v + (1 - beta2) g**2
        w <- w - lr * m_hat / (sqrt(v_hat) + eps), with the bias-corrected m_hat, v_hat.
    """

    def __init__(self, params, *, learning_rate=1e-2, beta1=0.9, beta2=0.999, eps=1e-8):
        self.learning_rate, self.beta1, self.beta2, self.eps = learning_rate, beta1, beta2, eps
        self.m = {k: xp_of(v).zeros_like(v) for k, v in params.items()}
        self.v = {k: xp_of(v).zeros_like(v) for k, v in params.items()}
        self.t = 0

    def step(self, params, grads):
        """Update ``params`` (the model's dict: its entries are replaced by new arrays)."""
        self.t += 1
        for k, g in grads.items():
            xp = xp_of(g)
            self.m[k] = self.beta1 * self.m[k] + (1 - self.beta1) * g
            self.v[k] = self.beta2 * self.v[k] + (1 - self.beta2) * g * g
            m_hat = self.m[k] / (1 - self.beta1 ** self.t)
            v_hat = self.v[k] / (1 - self.beta2 ** self.t)
            params[k] = params[k] - self.learning_rate * m_hat / (xp.sqrt(v_hat) + self.eps)


def batchify(ids, batch_size):
    """Cut a long id sequence into ``batch_size`` parallel streams: (batch_size, L).

    Stream n is the n-th consecutive piece of the sequence (the few ids that do not fit are
    dropped), so that chunk k + 1 of every stream continues chunk k of the same stream.
    """
    ids = np.asarray(ids)
    if ids.dtype.kind not in "iu":
        raise TypeError(f"batchify: ids must be integer ids (vocab.encode(text) gives them), got "
                        f"dtype {ids.dtype}")
    if ids.ndim != 1:
        raise ValueError(f"batchify: ids must be one long 1-D sequence, got shape {ids.shape}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral) \
            or batch_size < 1:
        raise ValueError(f"batchify: batch_size must be a positive integer, got {batch_size!r}")
    length = len(ids) // batch_size
    if length < 2:
        raise ValueError(f"batchify: {len(ids)} ids are too few for {batch_size} streams")
    return ids[:batch_size * length].reshape(batch_size, length)


def chunks(streams, seq_len):
    """(x, y) chunks of ``seq_len`` steps (the last one may be shorter): y is x shifted by one."""
    length = streams.shape[1] - 1  # the last id of a stream has no next id to predict
    for start in range(0, length, seq_len):
        stop = min(start + seq_len, length)
        yield streams[:, start:stop], streams[:, start + 1:stop + 1]


def evaluate(model, ids, *, seq_len=64, batch_size=8):
    """The mean cross entropy (nats per character) of ``model`` on ``ids``, reading them in order
    with the state carried over chunk boundaries; and the perplexity exp(mean cross entropy)
    (inf when that overflows: a loss above 709 nats, a model that has diverged)."""
    if isinstance(seq_len, bool) or not isinstance(seq_len, numbers.Integral) or seq_len < 1:
        raise ValueError(f"evaluate: seq_len must be a positive integer, got {seq_len!r}")
    total, count, state = 0.0, 0, None
    for x, y in chunks(batchify(ids, batch_size), seq_len):
        loss, _, state = model.loss(x, y, h0=state)
        total += loss * x.size
        count += x.size
    mean = float(total / count)
    perplexity = math.inf if mean > 709.0 else math.exp(mean)  # math.exp raises past 709.78
    return mean, perplexity


def _progress(total, enabled, desc):
    if enabled:
        try:
            from tqdm.auto import tqdm

            return tqdm(total=total, desc=desc, leave=True)
        except ImportError:
            pass
    return None


class SGD:
    """Plain gradient descent, w <- w - learning_rate * g (for comparison with Adam)."""

    def __init__(self, params, *, learning_rate=1e-2):
        self.learning_rate = learning_rate

    def step(self, params, grads):
        for k, g in grads.items():
            params[k] = params[k] - self.learning_rate * g


OPTIMIZERS = {"adam": Adam, "sgd": SGD}


def _optimizer(name, params, learning_rate, caller):
    if name not in OPTIMIZERS:
        raise ValueError(f"{caller}: unknown optimizer {name!r}; choose one of "
                         f"{', '.join(OPTIMIZERS)}")
    if isinstance(learning_rate, bool) or not isinstance(learning_rate, numbers.Real) \
            or not learning_rate > 0:
        raise ValueError(f"{caller}: learning_rate must be a number > 0, got {learning_rate!r}")
    return OPTIMIZERS[name](params, learning_rate=learning_rate)


def train_bptt(model, train_ids, *, val_ids=None, seq_len=32, batch_size=16, num_steps=500,
               learning_rate=1e-2, optimizer="adam", max_norm=5.0, eval_every=100,
               truncate=True, progress=True):
    """Train a language model on one long id sequence with truncated BPTT, Adam and clipping.

    The training ids are cut into ``batch_size`` streams (``batchify``) read chunk after chunk
    of ``seq_len`` steps; each chunk starts from the state the previous chunk ended with (None
    at the start of every pass over the data). Every step clips the gradients to a global norm
    of at most ``max_norm`` (None: no clipping) and applies one update of the ``optimizer``
    ("adam" or "sgd").

    Inputs:
        model: ``params`` and ``loss(x, y, h0=None) -> (loss, grads, h_last)``.
        train_ids, val_ids: 1-D integer arrays (val_ids may be None).
        truncate: False starts every chunk from the zero state instead (for comparison).
        eval_every: record the validation cross entropy and perplexity every this many steps.
    Returns:
        history: dict with "loss" (a float per step), "grad_norm" (the norm before clipping,
        per step), "step", "val_loss" and "val_perplexity" (per evaluation, and one before
        training).
    """
    for name, value in (("seq_len", seq_len), ("batch_size", batch_size),
                        ("num_steps", num_steps), ("eval_every", eval_every)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
            raise ValueError(f"train_bptt: {name} must be a positive integer, got {value!r}")
    streams = batchify(train_ids, batch_size)
    optimizer = _optimizer(optimizer, model.params, learning_rate, "train_bptt")
    history = {"loss": [], "grad_norm": [], "step": [], "val_loss": [], "val_perplexity": []}

    def record(step):
        if val_ids is not None:
            val_loss, val_ppl = evaluate(model, val_ids, seq_len=max(seq_len, 64))
            history["step"].append(step)
            history["val_loss"].append(val_loss)
            history["val_perplexity"].append(val_ppl)

    record(0)
    bar = _progress(num_steps, progress, "truncated BPTT")
    step = 0
    while step < num_steps:
        state = None
        for x, y in chunks(streams, seq_len):
            loss, grads, state = model.loss(x, y, h0=state if truncate else None)
            if max_norm is not None:
                grads, norm = clip_grad_norm(grads, max_norm)
            else:
                norm = math.sqrt(sum(float((g * g).sum()) for g in grads.values()))
            optimizer.step(model.params, grads)
            step += 1
            history["loss"].append(float(loss))
            history["grad_norm"].append(norm)
            if bar is not None:
                bar.update()
                bar.set_postfix(loss=f"{loss:.3f}")
            if step % eval_every == 0:
                record(step)
            if step >= num_steps:
                break
    if bar is not None:
        bar.close()
    if val_ids is not None and (not history["step"] or history["step"][-1] != step):
        record(step)
    return history


def train_sequences(model, x, y, *, batch_size=32, num_steps=300, learning_rate=1e-2,
                    optimizer="adam", max_norm=5.0, rng, progress=True):
    """Train on independent sequences (rows of x and y), each read whole (full BPTT), in random
    minibatches, with Adam (or "sgd") and clipping.

    Returns:
        history: dict with "loss" and "grad_norm", a float per step.
    """
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"train_sequences: rng must be a numpy.random.Generator, got "
                        f"{type(rng).__name__}")
    optimizer = _optimizer(optimizer, model.params, learning_rate, "train_sequences")
    history = {"loss": [], "grad_norm": []}
    bar = _progress(num_steps, progress, "training")
    for _ in range(num_steps):
        idx = rng.choice(len(x), size=min(batch_size, len(x)), replace=False)
        loss, grads, _ = model.loss(x[idx], y[idx])
        if max_norm is not None:
            grads, norm = clip_grad_norm(grads, max_norm)
        else:
            norm = math.sqrt(sum(float((g * g).sum()) for g in grads.values()))
        optimizer.step(model.params, grads)
        history["loss"].append(float(loss))
        history["grad_norm"].append(norm)
        if bar is not None:
            bar.update()
    if bar is not None:
        bar.close()
    return history
