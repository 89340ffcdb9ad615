"""Unit 02: a ``Trainer`` that fits any model of this course with minibatch gradient descent.

Provided code (not graded): read it, use it, do not edit it. A model is anything with
- ``params``: a dict name -> array, and
- ``loss(X, y=None)``: scores (N, C) when y is None, else ``(loss, grads)`` with grads keyed like
  params (the networks of ``mlp.py``).

Typical use::

    model = FullyConnectedNet([100], 64, 10, reg=1e-3, rng=np.random.default_rng(0))
    trainer = Trainer(model, data, optim_config={"learning_rate": 0.1}, num_epochs=20,
                      batch_size=50, rng=np.random.default_rng(1))
    trainer.train()
    trainer.best_val_acc, trainer.loss_history, trainer.val_acc_history

After ``train`` the model holds the parameters of the epoch with the best validation accuracy.
Units to come plug into it: unit 05 adds update rules (momentum, Adam, ...) in ``optim.py``,
found here by name; unit 04 passes an ``early_stopping`` object (``regularization.EarlyStopping``)
or callable. A model may also keep arrays that it updates itself rather than by gradient steps
(batch norm's running statistics, unit 04) in a dict attribute ``running_stats``: the Trainer keeps
them with the best parameters and in checkpoints.
"""

import importlib
import inspect
import numbers

import numpy as np

from .backend import to_numpy, xp_of


def sgd(w, dw, config=None):
    """Plain stochastic gradient descent: w <- w - learning_rate * dw.

    config: dict with "learning_rate" (default 1e-2). Returns (next_w, next_config), both new:
    neither w nor config is changed. For weight decay use unit 05's ``optim.sgd``
    (``update_rule=optim.sgd``), which you write.
    """
    config = dict(config or {})
    config.setdefault("learning_rate", 1e-2)
    if config.get("weight_decay", 0):
        raise ValueError(f"training.sgd: weight_decay={config['weight_decay']!r} is not supported "
                         "here; pass update_rule=optim.sgd (unit 05)")
    next_w = w - config["learning_rate"] * dw  # a new array: the caller's w is not changed
    return next_w, config


UPDATE_RULES = {"sgd": sgd}


def find_update_rule(update_rule):
    """The update function for ``update_rule``: a callable is returned as it is; a name is looked
    up here ("sgd") and then in ``coursework.optim`` (unit 05)."""
    if callable(update_rule):
        return update_rule
    if not isinstance(update_rule, str):
        raise TypeError(f"Trainer: update_rule must be a name or a function "
                        f"update(w, dw, config) -> (next_w, config), got {update_rule!r}")
    if update_rule in UPDATE_RULES:
        return UPDATE_RULES[update_rule]
    try:
        optim = importlib.import_module(".optim", __package__)
    except ImportError:
        optim = None
    rule = getattr(optim, update_rule, None) if optim is not None else None
    if not callable(rule):
        raise ValueError(f"Trainer: unknown update rule {update_rule!r}; available: "
                         f"{', '.join(_rule_names(optim))}")
    return rule


def _rule_names(optim):
    """The names update_rule may take: "sgd" here, and the functions of ``coursework.optim``
    called as rule(w, dw, config), or a pointer to optim.py when it cannot be imported."""
    if optim is None:
        return [*UPDATE_RULES, "(more come with coursework/optim.py)"]
    rules = [name for name, value in vars(optim).items()
             if inspect.isfunction(value) and not name.startswith("_")
             and list(inspect.signature(value).parameters)[:3] == ["w", "dw", "config"]]
    return sorted(set(UPDATE_RULES) | set(rules))


def _optim_function(name):
    """The function ``name`` of ``coursework.optim`` (unit 05)."""
    try:
        optim = importlib.import_module(".optim", __package__)
    except ImportError as exc:
        raise ValueError(f"Trainer: {name} needs coursework/optim.py (unit 05): {exc}") from None
    return getattr(optim, name)


def _progress_bar(total, enabled, desc):
    """A tqdm progress bar, or a stand-in with the same methods when disabled or missing."""
    if enabled:
        try:
            from tqdm.auto import tqdm

            return tqdm(total=total, desc=desc, leave=True)
        except ImportError:
            pass

    class _Silent:
        def update(self, n=1):
            pass

        def set_postfix(self, **kwargs):
            pass

        def close(self):
            pass

    return _Silent()


class Trainer:
    """Minibatch training of a model, with histories, the best parameters, and checkpoints.

    Inputs:
        model: an object with ``params`` (dict of arrays) and ``loss(X, y=None)``.
        data: a dict with X_train, y_train, X_val, y_val (X of shape (N, ...), y (N,)).
        update_rule: "sgd", another name from ``coursework.optim`` (unit 05), or a function
            ``update(w, dw, config) -> (next_w, config)``.
        optim_config: dict of the update rule's hyperparameters ({"learning_rate": 1e-2}); every
            parameter gets its own copy, which the rule may use to keep state (moments).
        lr_decay: after each epoch, every learning rate is multiplied by this.
        batch_size: examples per step, drawn without replacement within an epoch.
        num_epochs: passes over the training data.
        rng: a ``numpy.random.Generator``: the order of the minibatches and the subsamples used
            to estimate the training accuracy come from it.
        progress: show a tqdm progress bar.
        num_train_samples: examples of the training set used to estimate the training accuracy
            after each epoch (None: all of them). num_val_samples: the same for validation.
        early_stopping: None; an object with a method ``step(value) -> bool``, such as
            ``regularization.EarlyStopping(patience=5, mode="max")``, given the validation
            accuracy after each epoch; or a function ``stop(trainer) -> bool`` called after each
            epoch's accuracies are recorded. Training ends when it returns True (``stopped_early``
            then says so); the model keeps the parameters of the best epoch, as always.
        print_every: print the loss every this many steps (None: never).
        lr_schedule: None (the learning rate of optim_config, times lr_decay after each epoch);
            a function ``schedule(n) -> learning rate`` (unit 05's ``optim.cosine_annealing``
            and others, with their keywords bound by ``functools.partial``), called before every
            update with n the number of updates done so far (``lr_schedule_unit="step"``) or
            with n the number of the epoch being trained, from 0 (``"epoch"``); or an object
            with ``step(metric) -> learning rate`` and an ``lr`` attribute (unit 05's
            ``optim.ReduceOnPlateau(lr0=..., mode="max")``), given the validation accuracy after
            each epoch. The rate it gives replaces every parameter's config["learning_rate"]
            (optim_config's learning_rate is then unused); lr_decay must stay 1.
        lr_schedule_unit: "step" or "epoch", for a schedule function (see lr_schedule).
        grad_clip: None, or max_norm: before every update all the gradients of the step are
            scaled together so that their global L2 norm is at most max_norm (unit 05's
            ``optim.clip_grad_norm``).
    Per-parameter state: every parameter (every key of ``model.params``) has its own config in
    ``optim_configs``, which the update rule returns updated (its momentum, running averages,
    step counter) and the Trainer passes back at the parameter's next update.
    Attributes after ``train``:
        loss_history (a float per step), train_acc_history and val_acc_history (a float per
        epoch, and one before training starts), best_val_acc, best_params (copies), epoch,
        lr_history (the learning rate of every update), grad_norm_history (with grad_clip: the
        global gradient norm of every update, before clipping), steps_per_epoch.
    """

    def __init__(self, model, data, *, update_rule="sgd", optim_config=None, lr_decay=1.0,
                 batch_size=100, num_epochs=10, rng, progress=True, num_train_samples=1000,
                 num_val_samples=None, early_stopping=None, print_every=None,
                 lr_schedule=None, lr_schedule_unit="step", grad_clip=None):
        if not hasattr(model, "params") or not hasattr(model, "loss"):
            raise TypeError("Trainer: the model needs a params dict and a loss(X, y) method")
        if not isinstance(data, dict):
            raise TypeError(f"Trainer: data must be a dict with X_train, y_train, X_val and "
                            f"y_val, got {type(data).__name__}")
        missing = [k for k in ("X_train", "y_train", "X_val", "y_val") if k not in data]
        if missing:
            raise ValueError(f"Trainer: data lacks {missing}")
        if len(data["X_train"]) != len(data["y_train"]) or len(data["X_val"]) != len(
                data["y_val"]):
            raise ValueError("Trainer: X and y of a split have different lengths")
        if not isinstance(rng, np.random.Generator):
            raise TypeError(f"Trainer: rng must be a numpy.random.Generator, got "
                            f"{type(rng).__name__}")
        for name, value in (("batch_size", batch_size), ("num_epochs", num_epochs)):
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
                raise ValueError(f"Trainer: {name} must be a positive integer, got {value!r}")
        for name, value in (("num_train_samples", num_train_samples),
                            ("num_val_samples", num_val_samples)):
            # checked here, not by rng.choice at the end of the first epoch
            if value is not None and (isinstance(value, bool) or not isinstance(
                    value, numbers.Integral) or value < 1):
                raise ValueError(f"Trainer: {name} must be None (all) or a positive integer, "
                                 f"got {value!r}")
        if optim_config is not None and not isinstance(optim_config, dict):
            raise TypeError(f"Trainer: optim_config must be a dict such as "
                            f"{{'learning_rate': 1e-2}}, got {type(optim_config).__name__}")
        if optim_config and "lr" in optim_config and "learning_rate" not in optim_config:
            raise ValueError("Trainer: optim_config has the key 'lr', which no update rule reads: "
                             "write {'learning_rate': ...}")
        rate = (optim_config or {}).get("learning_rate", 1.0)
        if isinstance(rate, bool) or not isinstance(rate, numbers.Real) or not rate > 0:
            raise ValueError(f"Trainer: optim_config['learning_rate'] must be a number > 0, got "
                             f"{rate!r}")
        if not isinstance(lr_decay, numbers.Real) or not lr_decay > 0:
            raise ValueError(f"Trainer: lr_decay must be a positive number, got {lr_decay!r}")
        if early_stopping is not None and not callable(early_stopping) and not callable(
                getattr(early_stopping, "step", None)):
            raise TypeError("Trainer: early_stopping must have a step(value) -> bool method "
                            "(regularization.EarlyStopping) or be a function stop(trainer) -> bool")
        self.model = model
        self.X_train, self.y_train = data["X_train"], data["y_train"]
        self.X_val, self.y_val = data["X_val"], data["y_val"]
        self.update_rule = find_update_rule(update_rule)
        self.optim_config = dict(optim_config or {})
        self.lr_decay = float(lr_decay)
        self.batch_size = int(batch_size)
        self.num_epochs = int(num_epochs)
        self.rng = rng
        self.progress = progress
        self.num_train_samples = num_train_samples
        self.num_val_samples = num_val_samples
        self.early_stopping = early_stopping
        self.print_every = print_every
        self._set_schedule_and_clipping(lr_schedule, lr_schedule_unit, grad_clip)
        self.reset()

    def reset(self):
        """Forget the histories and the optimizer state (the model's parameters are kept)."""
        self.epoch = 0
        self.best_val_acc = -1.0
        self.best_params = {}
        self.best_running_stats = {}
        self.loss_history = []
        self.train_acc_history = []
        self.val_acc_history = []
        self.stopped_early = False
        self.optim_configs = {name: dict(self.optim_config) for name in self.model.params}
        self.lr_history = []
        self.grad_norm_history = []
        if self._plateau:  # the rate starts where the scheduler is
            self._set_learning_rate(self.lr_schedule.lr)

    def _set_schedule_and_clipping(self, lr_schedule, lr_schedule_unit, grad_clip):
        """Check and keep the lr_schedule and grad_clip options (unit 05)."""
        self._plateau = lr_schedule is not None and callable(getattr(lr_schedule, "step", None))
        if lr_schedule is not None and not self._plateau and not callable(lr_schedule):
            raise TypeError(f"Trainer: lr_schedule must be a function schedule(n) -> learning "
                            f"rate or an object with step(metric), got {lr_schedule!r}")
        if self._plateau and not hasattr(lr_schedule, "lr"):
            raise TypeError("Trainer: an lr_schedule with step(metric) needs an lr attribute "
                            "(the current learning rate)")
        if self._plateau and getattr(lr_schedule, "mode", "max") != "max":
            raise ValueError(f"Trainer: the Trainer gives lr_schedule.step the validation "
                             f"accuracy (higher is better): use mode='max', not "
                             f"{lr_schedule.mode!r}")
        if lr_schedule is not None and self.lr_decay != 1.0:
            raise ValueError(f"Trainer: give lr_schedule or lr_decay, not both (lr_decay="
                             f"{self.lr_decay!r})")
        if lr_schedule_unit not in ("step", "epoch"):
            raise ValueError(f"Trainer: lr_schedule_unit must be 'step' or 'epoch', got "
                             f"{lr_schedule_unit!r}")
        if grad_clip is not None and (isinstance(grad_clip, bool) or not isinstance(
                grad_clip, numbers.Real) or not grad_clip > 0):
            raise ValueError(f"Trainer: grad_clip must be None or a number > 0, got "
                             f"{grad_clip!r}")
        self.lr_schedule = lr_schedule
        self.lr_schedule_unit = lr_schedule_unit
        self.grad_clip = None if grad_clip is None else float(grad_clip)
        self._clip = _optim_function("clip_grad_norm") if grad_clip is not None else None
        self.steps_per_epoch = max(self.X_train.shape[0] // self.batch_size, 1)

    def _set_learning_rate(self, lr):
        for config in self.optim_configs.values():
            config["learning_rate"] = float(lr)

    def _scheduled_rate(self):
        """Before an update: the schedule function's rate for this step (or epoch), set in every
        parameter's config; returns the rate of the step (None when no config holds one)."""
        if self.lr_schedule is not None and not self._plateau:
            n = len(self.loss_history) if self.lr_schedule_unit == "step" else self.epoch
            self._set_learning_rate(self.lr_schedule(n))
        rates = [c["learning_rate"] for c in self.optim_configs.values() if "learning_rate" in c]
        return float(rates[0]) if rates else None

    def _step(self, idx):
        """One update on the minibatch of the training rows ``idx``; returns the loss."""
        xp = xp_of(self.X_train)
        idx = xp.asarray(idx)
        loss, grads = self.model.loss(self.X_train[idx], self.y_train[idx])
        if self._clip is not None:  # one norm over all the gradients of the step
            grads, norm = self._clip(grads, self.grad_clip)
            self.grad_norm_history.append(float(norm))
        self.lr_history.append(self._scheduled_rate())
        for name, w in self.model.params.items():
            next_w, config = self.update_rule(w, grads[name], self.optim_configs[name])
            self.model.params[name] = next_w
            self.optim_configs[name] = config
        return float(loss)

    def predict(self, X, batch_size=500):
        """The predicted labels (N,) of the model for X, computed in batches."""
        xp = xp_of(X)
        out = [xp.argmax(self.model.loss(X[i:i + batch_size]), axis=1)
               for i in range(0, X.shape[0], batch_size)]
        return xp.concatenate(out) if out else xp.zeros(0, dtype=np.int64)

    def check_accuracy(self, X, y, num_samples=None, batch_size=500):
        """The fraction of (a random subsample of ``num_samples`` of) X that the model labels y."""
        if num_samples is not None and X.shape[0] > num_samples:
            idx = xp_of(X).asarray(self.rng.choice(X.shape[0], num_samples, replace=False))
            X, y = X[idx], y[idx]
        if X.shape[0] == 0:
            return 0.0
        return float(to_numpy(self.predict(X, batch_size) == y).mean())

    def _record_accuracies(self):
        train_acc = self.check_accuracy(self.X_train, self.y_train, self.num_train_samples)
        val_acc = self.check_accuracy(self.X_val, self.y_val, self.num_val_samples)
        self.train_acc_history.append(train_acc)
        self.val_acc_history.append(val_acc)
        if val_acc > self.best_val_acc:  # keep the parameters of the best epoch so far
            self.best_val_acc = val_acc
            self.best_params = {k: v.copy() for k, v in self.model.params.items()}
            self.best_running_stats = {k: v.copy() for k, v in _running_stats(self.model).items()}
        return train_acc, val_acc

    def _should_stop(self):
        """Ask the early-stopping hook: an object's ``step(val_acc)``, or a function of self."""
        hook = self.early_stopping
        if callable(getattr(hook, "step", None)):
            return bool(hook.step(self.val_acc_history[-1]))
        return bool(hook(self))

    def train(self):
        """Run the remaining epochs (all of them, or those after a loaded checkpoint's epoch);
        afterwards the model holds ``best_params``. Returns self."""
        num_train = self.X_train.shape[0]
        steps_per_epoch = max(num_train // self.batch_size, 1)
        if not self.val_acc_history:
            self._record_accuracies()
        bar = _progress_bar((self.num_epochs - self.epoch) * steps_per_epoch, self.progress,
                            type(self.model).__name__)
        try:
            while self.epoch < self.num_epochs:
                order = self.rng.permutation(num_train)
                for step in range(steps_per_epoch):
                    idx = order[step * self.batch_size:(step + 1) * self.batch_size]
                    loss = self._step(idx)
                    self.loss_history.append(loss)
                    bar.update(1)
                    if self.print_every and len(self.loss_history) % self.print_every == 0:
                        print(f"step {len(self.loss_history)}: loss {loss:.4f}")
                self.epoch += 1
                for config in self.optim_configs.values():
                    if "learning_rate" in config:
                        config["learning_rate"] *= self.lr_decay
                train_acc, val_acc = self._record_accuracies()
                if self._plateau:  # ReduceOnPlateau watches the validation accuracy
                    self._set_learning_rate(self.lr_schedule.step(val_acc))
                bar.set_postfix(epoch=self.epoch, loss=f"{self.loss_history[-1]:.3f}",
                                train_acc=f"{train_acc:.3f}", val_acc=f"{val_acc:.3f}")
                if self.early_stopping is not None and self._should_stop():
                    self.stopped_early = True
                    break
        finally:
            bar.close()
        if self.best_params:
            self.model.params = {k: v.copy() for k, v in self.best_params.items()}
            if self.best_running_stats:  # the statistics that went with those parameters
                self.model.running_stats = {k: v.copy()
                                            for k, v in self.best_running_stats.items()}
        return self

    def save_checkpoint(self, path):
        """Save the parameters, the best parameters, the histories, the epoch and the optimizer
        state to an .npz file at ``path``."""
        arrays = {
            "epoch": np.array(self.epoch),
            "best_val_acc": np.array(self.best_val_acc),
            "loss_history": np.array(self.loss_history, dtype=np.float64),
            "train_acc_history": np.array(self.train_acc_history, dtype=np.float64),
            "val_acc_history": np.array(self.val_acc_history, dtype=np.float64),
            "lr_history": np.array([np.nan if v is None else v for v in self.lr_history],
                                   dtype=np.float64),
            "grad_norm_history": np.array(self.grad_norm_history, dtype=np.float64),
        }
        for name, value in self.model.params.items():
            arrays[f"param/{name}"] = to_numpy(value)
        for name, value in self.best_params.items():
            arrays[f"best/{name}"] = to_numpy(value)
        for name, value in _running_stats(self.model).items():
            arrays[f"stats/{name}"] = to_numpy(value)
        for name, value in self.best_running_stats.items():
            arrays[f"beststats/{name}"] = to_numpy(value)
        for name, config in self.optim_configs.items():
            for key, value in config.items():
                arrays[f"optim/{name}/{key}"] = to_numpy(value)
        with open(path, "wb") as f:  # a file object: savez would otherwise append ".npz"
            np.savez(f, **arrays)

    def load_checkpoint(self, path):
        """Restore what ``save_checkpoint`` saved; ``train`` then continues from that epoch.

        Arrays go back to the array module of the model's current parameters (NumPy or CuPy)."""
        xp = xp_of(*self.model.params.values())
        with np.load(path, allow_pickle=False) as saved:
            self.epoch = int(saved["epoch"])
            self.best_val_acc = float(saved["best_val_acc"])
            self.loss_history = [float(v) for v in saved["loss_history"]]
            self.train_acc_history = [float(v) for v in saved["train_acc_history"]]
            self.val_acc_history = [float(v) for v in saved["val_acc_history"]]
            self.lr_history = [None if np.isnan(v) else float(v)
                               for v in saved.get("lr_history", [])]
            self.grad_norm_history = [float(v) for v in saved.get("grad_norm_history", [])]
            params, best, configs = {}, {}, {name: {} for name in self.model.params}
            stats, best_stats = {}, {}
            for key in saved.files:
                kind, _, rest = key.partition("/")
                if kind == "param":
                    params[rest] = xp.asarray(saved[key])
                elif kind == "best":
                    best[rest] = xp.asarray(saved[key])
                elif kind == "stats":
                    stats[rest] = xp.asarray(saved[key])
                elif kind == "beststats":
                    best_stats[rest] = xp.asarray(saved[key])
                elif kind == "optim":
                    name, _, option = rest.rpartition("/")
                    value = saved[key]
                    configs.setdefault(name, {})[option] = (value.item() if value.ndim == 0
                                                            else xp.asarray(value))
        if set(params) != set(self.model.params):
            raise ValueError(f"load_checkpoint: the checkpoint holds the parameters "
                             f"{sorted(params)} but the model has {sorted(self.model.params)}")
        self.model.params = params
        if stats:
            self.model.running_stats = stats
        self.best_params = best
        self.best_running_stats = best_stats
        self.optim_configs = configs
        return self


def _running_stats(model):
    """The model's ``running_stats`` dict (batch norm's running averages), or {}."""
    stats = getattr(model, "running_stats", None)
    return stats if isinstance(stats, dict) else {}
