"""Unit 10 graded through the real worker: functions on tensors and modules driven by handles.

The reference gets every point and the stubs none; a submission with known mistakes gets their
hints through the worker (the sandbox the unit's package declaration allows).
"""

import shutil

import pytest

from autograder import engine
from autograder.paths import REPO_ROOT
from autograder.sandbox import Limits
from autograder.units import UNITS

from .submissions import graded_to_zero, make_submission

pytest.importorskip("torch")

UNIT = "10_generative"
SOLUTION = REPO_ROOT / "solutions" / "coursework" / "generative.py"
WORKER_BWRAP = None if "torch" in getattr(UNITS[UNIT], "packages", ()) else False
LIMITS = Limits(call_seconds=30.0, cpu_seconds=30.0)


def functions(report):
    return report["units"][UNIT]["functions"]


def test_reference_full_marks_stubs_none():
    report = engine.grade(REPO_ROOT / "solutions", [UNIT], use_bwrap=WORKER_BWRAP,
                          limits=LIMITS)
    bad = {k: e["message"] for k, e in functions(report).items() if e["status"] != "passed"}
    assert not bad
    assert report["total"] == report["max"] > 0
    assert len(functions(report)) == 14
    stubs = engine.grade(REPO_ROOT, [UNIT], use_bwrap=WORKER_BWRAP, limits=LIMITS)
    assert {e["status"] for e in functions(stubs).values()} == {"not_implemented"}
    assert stubs["total"] == 0


MISTAKEN = '''
import torch
from torch.nn import functional as F
from ._honest import *  # noqa: F401,F403
from ._honest import sample_noise
from . import _honest


def generator_loss(logits_fake):
    return -F.softplus(logits_fake).mean()


def reparameterize(mu, logvar, eps):
    return mu + torch.exp(logvar) * eps


def discriminator_loss(logits_real, logits_fake):
    return -torch.log(torch.sigmoid(logits_real)).mean() - torch.log(
        1 - torch.sigmoid(logits_fake)).mean()


def gan_step(D, G, d_optimizer, g_optimizer, real, *, noise_dim, generator, loss="bce"):
    z = sample_noise(len(real), noise_dim, generator=generator).to(real.dtype)
    d_optimizer.zero_grad()
    d_loss = _honest.discriminator_loss(D(real), D(G(z).detach()))
    d_loss.backward()
    d_optimizer.step()
    g_optimizer.zero_grad()
    g_loss = _honest.generator_loss(D(G(z)))  # the noise of the D step reused
    g_loss.backward()
    g_optimizer.step()
    return d_loss.item(), g_loss.item()
'''


def test_known_mistakes_through_the_worker(tmp_path):
    folder = tmp_path / "submission"
    shutil.copytree(REPO_ROOT / "coursework", folder / "coursework",
                    ignore=shutil.ignore_patterns("__pycache__"))
    (folder / "coursework" / "_honest.py").write_text(SOLUTION.read_text())
    (folder / "coursework" / "generative.py").write_text(MISTAKEN)
    keys = {"generative.generator_loss", "generative.reparameterize",
            "generative.discriminator_loss", "generative.gan_step", "generative.VAE"}
    report = engine.grade(folder, [UNIT], use_bwrap=WORKER_BWRAP, limits=LIMITS, keys=keys)
    got = functions(report)
    assert got["generative.VAE"]["status"] == "passed"
    assert "saturating form" in got["generative.generator_loss"]["hint"]
    assert "exp(logvar)" in got["generative.reparameterize"]["hint"]
    assert "underflows" in got["generative.discriminator_loss"]["hint"]
    assert "noise" in got["generative.gan_step"]["hint"]
    assert all(got[k]["status"] == "failed" for k in keys - {"generative.VAE"})


# -- wrong variants the grader once missed, and unusual but correct ones -------------------------

DISCRIMINATOR_ACT = ("                layers.append(nn.LeakyReLU(0.2))\n"
                     "        self.net = nn.Sequential(*layers)")
NOISE = "    z = torch.rand(batch_size, dim, generator=generator) * 2 - 1"
KL = "    kl = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp()) / n"
RECONSTRUCTION = ('    reconstruction = F.binary_cross_entropy_with_logits(logits, x, '
                  'reduction="sum") / n')
G_STEP = "    g_optimizer.zero_grad()\n    g_loss = g_loss_fn(D(G(z)))"

WRONG = {
    # (replacements in generative.py, graded function, in the message, in the hint)
    "an extra dropout in the discriminator": (
        [(DISCRIMINATOR_ACT, "                layers.append(nn.LeakyReLU(0.2))\n"
                             "                layers.append(nn.Dropout(0.3))\n"
                             "        self.net = nn.Sequential(*layers)")],
        "Discriminator", "train mode", "runs dropout(p=0.3) (in net.2) after"),
    "least squares divided by the batch size": (
        [("    loss = 0.5 * ((scores_fake - 1) ** 2).mean()",
          "    loss = ((scores_fake - 1) ** 2).sum() / (2 * scores_fake.shape[0])")],
        "ls_generator_loss", "shape (4, 3)", "every entry"),
    "the KL as a mean over every entry": (
        [(KL, "    kl = -0.5 * torch.mean(1 + logvar - mu.pow(2) - logvar.exp())")],
        "vae_loss", "the reconstruction term is right; the KL term is wrong", "latent"),
    "the reconstruction on probabilities": (
        [(RECONSTRUCTION, '    reconstruction = F.binary_cross_entropy(torch.sigmoid(logits), x, '
                          'reduction="sum") / n')],
        "vae_loss", "the KL term is right; the reconstruction term is wrong", "with_logits"),
    "a KL unknown to the mistakes: the term is named": (
        [(KL, KL.replace("-0.5 *", "-0.25 *"))], "vae_loss",
        "the reconstruction term is right; the KL term is wrong", ""),
    "corrupt returns x itself without noise": (
        [("    noisy = x + noise_std * torch.randn(",
          "    if noise_std == 0:\n        return x\n    noisy = x + noise_std * torch.randn(")],
        "corrupt", "returned its input x itself", "new tensor"),
    "sample_noise reseeding the global generator": (
        [(NOISE, "    torch.manual_seed(generator.initial_seed())\n"
                 "    z = torch.rand(batch_size, dim) * 2 - 1")],
        "sample_noise", "did not advance", "generator=generator"),
    # the global generator reseeded from the one given: the same noise every call
    "corrupt reseeding the global generator": (
        [("    noisy = x + noise_std * torch.randn(x.shape, generator=generator, dtype=x.dtype,",
          "    torch.manual_seed(generator.initial_seed())\n"
          "    noisy = x + noise_std * torch.randn(x.shape, dtype=x.dtype,")],
        "corrupt", "did not advance", "torch.randn(..., generator=generator)"),
    # a student in notebook 10: the noise from the global generator
    "corrupt without generator=": (
        [("    noisy = x + noise_std * torch.randn(x.shape, generator=generator, dtype=x.dtype,",
          "    noisy = x + noise_std * torch.randn(x.shape, dtype=x.dtype,")],
        "corrupt", "the noisy x", "had not drawn a single number"),
    "sample_noise without generator=": (
        [(NOISE, NOISE.replace(", generator=generator)", ")"))],
        "sample_noise", "the noise", "Pass generator=generator"),
    "sample_noise in float64": (
        [(NOISE, NOISE.replace("generator=generator)", "generator=generator, "
                                                         "dtype=torch.float64)"))],
        "sample_noise", "expected float32", "no dtype argument"),
    "VAE decoding mu in eval mode": (
        [("        logits = self.decode(reparameterize(mu, logvar, eps))",
          "        z = reparameterize(mu, logvar, eps) if self.training else mu\n"
          "        logits = self.decode(z)")],
        "VAE", "eval mode", "in eval mode the decoder is fed mu"),
    # a positive "log-variance" (exp or softplus on fc_logvar's output): logits
    # millions off without a hint
    "VAE encoding the variance": (
        [("        mu, logvar = self.fc_mu(h), self.fc_logvar(h)",
          "        mu, logvar = self.fc_mu(h), torch.exp(self.fc_logvar(h))")],
        "VAE", "logits is wrong", "no exp, which makes it the variance"),
    "gan_step converting the noise to float64": (
        [("    z = sample_noise(n, noise_dim, generator=generator).to(real.dtype)",
          "    z = sample_noise(n, noise_dim, generator=generator).double()")],
        "gan_step", "float32 networks and data", "real.dtype"),
    # right values, but the discriminator's backward ran through G
    "gan_step without detach, G's gradients zeroed before its own backward": (
        [("    fakes = G(z).detach()  # no gradient reaches G from the discriminator's loss\n",
          "    fakes = G(z)\n")],
        "gan_step", "the discriminator's loss sent gradients into G", "G(z).detach()"),
    "gan_step leaving D frozen": (
        [(G_STEP, "    g_optimizer.zero_grad()\n    D.requires_grad_(False)\n"
                  "    g_loss = g_loss_fn(D(G(z)))")],
        "gan_step", "no longer require gradients", "requires_grad_(True)"),
    # the judge indexed the optimizers' records unguarded (a grader fault, exit 1)
    "the optimizers' records edited": (
        [("    return d_loss.item(), g_loss.item()",
          "    d_optimizer.log[0].pop('G', None)\n    return d_loss.item(), g_loss.item()")],
        "gan_step", "the optimizers' records of their steps were changed",
        "leave the optimizers you are given as they are"),
    # label smoothing and a squared-error reconstruction failed without a hint
    "discriminator_loss with the real labels smoothed to 0.9": (
        [("    loss = (bce(logits_real, torch.ones_like(logits_real))",
          "    loss = (bce(logits_real, 0.9 * torch.ones_like(logits_real))")],
        "discriminator_loss", "the loss is", "the real labels are smoothed (0.9)"),
    "vae_loss with a squared-error reconstruction": (
        [(RECONSTRUCTION, '    reconstruction = F.mse_loss(torch.sigmoid(logits), x, '
                          'reduction="sum") / n')],
        "vae_loss", "the reconstruction term is wrong", "the squared error of sigmoid(logits)"),
    "reparameterize drawing its own noise": (
        [("    z = mu + torch.exp(0.5 * logvar) * eps",
          "    z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)")],
        "reparameterize", "a second call with the same mu, logvar and eps gave another z", None),
}


@pytest.mark.parametrize("label", list(WRONG))
def test_wrong_variants_lose_points(tmp_path, label):
    replace, name, message, hint = WRONG[label]
    sub = make_submission(tmp_path, replace={"generative.py": replace})
    graded_to_zero(sub, UNIT, f"generative.{name}", message, hint, statuses=("failed",),
                   use_bwrap=WORKER_BWRAP, limits=LIMITS)


UNUSUAL = [  # written differently from the reference, correct by the docstrings
    ("    loss = F.binary_cross_entropy_with_logits(logits_fake, torch.ones_like(logits_fake))",
     "    loss = -F.logsigmoid(logits_fake).mean()"),
    ("    loss = 0.5 * ((scores_fake - 1) ** 2).mean()",
     "    loss = F.mse_loss(scores_fake, torch.ones_like(scores_fake)) / 2"),
    ("    z = mu + torch.exp(0.5 * logvar) * eps",
     "    z = torch.addcmul(mu, logvar.exp().sqrt(), eps)"),
    ("    noisy = x + noise_std * torch.randn(x.shape, generator=generator, dtype=x.dtype,\n"
     "                                        device=x.device)",
     "    noisy = torch.normal(x, float(noise_std), generator=generator)"),
    # gan_step: one pass of D over real and fakes together, both gradients zeroed up front
    ("    fakes = G(z).detach()  # no gradient reaches G from the discriminator's loss\n"
     "    d_optimizer.zero_grad()\n"
     "    d_loss = d_loss_fn(D(real), D(fakes))",
     "    d_optimizer.zero_grad()\n"
     "    g_optimizer.zero_grad()\n"
     "    fakes = G(z).detach()\n"
     "    scores = D(torch.cat([real, fakes], dim=0))\n"
     "    d_loss = d_loss_fn(scores[:n], scores[n:])"),
    ("    g_optimizer.zero_grad()\n    g_loss = g_loss_fn(D(G(z)))",
     "    g_loss = g_loss_fn(D(G(z)))"),
    # a value written back equal (-0.0 becomes 0.0) is no change; a
    # Parameter is a Tensor; the VAE may treat its noise as a constant (no gradient to eps)
    ("    loss = (bce(logits_real, torch.ones_like(logits_real))\n",
     "    with torch.no_grad():\n        logits_fake.add_(0.0)\n"
     "    loss = (bce(logits_real, torch.ones_like(logits_real))\n"),
    # a hand-written stable softplus (BCE with target 0), whose autograd derivative
    # at a logit of exactly 0 is 1, not 0.5: the cases keep off that kink
    ("            + bce(logits_fake, torch.zeros_like(logits_fake)))",
     "            + (torch.clamp(logits_fake, min=0)\n"
     "               + torch.log1p(torch.exp(-logits_fake.abs()))).mean())"),
    ("    z = torch.rand(batch_size, dim, generator=generator) * 2 - 1\n",
     "    z = nn.Parameter(torch.rand(batch_size, dim, generator=generator) * 2 - 1,\n"
     "                     requires_grad=False)\n"),
    ("        logits = self.decode(reparameterize(mu, logvar, eps))",
     "        logits = self.decode(reparameterize(mu, logvar, eps.detach()))"),
    # torch.compile spent ~30 s compiling on its first call, a timeout (the worker
    # runs with TorchDynamo off: the function runs eagerly)
    ("    loss = 0.5 * ((scores_real - 1) ** 2).mean() + 0.5 * (scores_fake ** 2).mean()",
     "    loss = torch.compile(lambda r, f: 0.5 * ((r - 1) ** 2).mean() + 0.5 * (f ** 2).mean())("
     "scores_real, scores_fake)"),
    # what a module keeps on self without reading it back, and in-place activations,
    # pass the check of two calls on inputs of the same shapes
    ("        samples = self.net(z)\n",
     "        samples = self.net(z)\n        self.last_samples = samples.detach()  # for plots\n"),
    ("        logits = self.decode(self.encode(x))\n",
     "        logits = self.decoder(self.encoder(x))\n"),
    ("                stack.append(nn.ReLU())\n",
     "                stack.append(nn.ReLU(inplace=True))\n"),
    # the KL from torch.distributions, the reconstruction from softplus
    (RECONSTRUCTION, "    reconstruction = (x * F.softplus(-logits) + (1 - x) * F.softplus(logits))"
                     ".sum(dim=1).mean()"),
    (KL, "    q = torch.distributions.Normal(mu, torch.exp(0.5 * logvar))\n"
         "    prior = torch.distributions.Normal(torch.zeros_like(mu), torch.ones_like(mu))\n"
         "    kl = torch.distributions.kl_divergence(q, prior).sum() / n"),
]


def test_unusual_but_correct_variants_keep_full_marks(tmp_path):
    sub = make_submission(tmp_path, replace={"generative.py": UNUSUAL})
    report = engine.grade(sub, [UNIT], use_bwrap=WORKER_BWRAP, limits=LIMITS)
    bad = {k: e["message"] for k, e in functions(report).items() if e["status"] != "passed"}
    assert not bad
    assert report["total"] == report["max"] > 0


# -- state left behind by student code is put back before the checks and the next function -------

def test_a_torch_function_mode_left_on_does_not_hide_an_in_place_change(tmp_path):
    """reparameterize works in place on eps and leaves on a mode whose torch.equal always says
    True (the in-place check compares with torch.equal): the mode is popped before the check."""
    sub = make_submission(tmp_path, replace={"generative.py": [(
        "    z = mu + torch.exp(0.5 * logvar) * eps",
        "    class Quiet(torch.overrides.TorchFunctionMode):\n"
        "        def __torch_function__(self, func, types, args=(), kwargs=None):\n"
        "            if func is torch.equal:\n"
        "                return True\n"
        "            return func(*args, **(kwargs or {}))\n"
        "    Quiet().__enter__()\n"
        "    z = eps.mul_(torch.exp(0.5 * logvar)).add_(mu)")]})
    graded_to_zero(sub, UNIT, "generative.reparameterize", "modified its input eps",
                   statuses=("failed",), use_bwrap=WORKER_BWRAP, limits=LIMITS)


def test_a_patched_tensor_method_does_not_hide_a_returned_view(tmp_path):
    """corrupt returns a view of x for noise_std 0 after replacing torch.Tensor.untyped_storage
    (the alias check compares storages): the method is put back before the check."""
    sub = make_submission(tmp_path, replace={"generative.py": [(
        "    noisy = x + noise_std * torch.randn(x.shape, generator=generator, dtype=x.dtype,\n"
        "                                        device=x.device)",
        "    if noise_std == 0:\n"
        "        torch.Tensor.untyped_storage = lambda self: torch.UntypedStorage(8)\n"
        "        noisy = x.view_as(x)\n"
        "    else:\n"
        "        noisy = x + noise_std * torch.randn(x.shape, generator=generator, "
        "dtype=x.dtype, device=x.device)")]})
    graded_to_zero(sub, UNIT, "generative.corrupt", "a view of it", statuses=("failed",),
                   use_bwrap=WORKER_BWRAP, limits=LIMITS)


def test_a_default_device_set_by_one_function_does_not_reach_the_next(tmp_path):
    """discriminator_loss (correct) ends with torch.set_default_device("meta"): the functions
    graded after it in the same worker still build their tensors on the CPU."""
    sub = make_submission(tmp_path, replace={"generative.py": [(
        "            + bce(logits_fake, torch.zeros_like(logits_fake)))",
        "            + bce(logits_fake, torch.zeros_like(logits_fake)))\n"
        "    torch.set_default_device(\"meta\")")]})
    keys = {"generative.discriminator_loss", "generative.sample_noise", "generative.VAE",
            "generative.Generator"}
    report = engine.grade(sub, [UNIT], use_bwrap=WORKER_BWRAP, limits=LIMITS, keys=keys)
    assert {k: e["status"] for k, e in functions(report).items()} == dict.fromkeys(keys, "passed")


def test_a_module_without_forward_is_an_error_not_a_stub(tmp_path):
    """PyTorch raises NotImplementedError for a module whose forward is misspelt: that is not
    the stub's NotImplementedError, so the student sees PyTorch's message, not "not implemented
    yet"."""
    text = SOLUTION.read_text()
    start = text.index("class Generator")
    at = text.index("    def forward(self", start)
    sub = make_submission(tmp_path, replace={"generative.py": [(
        text[start:at + len("    def forward(self")],
        text[start:at] + "    def foward(self")]})
    entry = graded_to_zero(sub, UNIT, "generative.Generator", "missing the required",
                           statuses=("error",), use_bwrap=WORKER_BWRAP, limits=LIMITS)
    assert "not implemented yet" not in entry["message"], entry


BY_SHAPE = '''
_REMEMBERED = {}


def _by_shape(fn):
    def wrapper(*args, **kwargs):   # remembers the answer by the shapes of the inputs
        key = (fn.__name__, tuple(tuple(a.shape) for a in args))
        if key not in _REMEMBERED:
            _REMEMBERED[key] = fn(*args, **kwargs)
        return _REMEMBERED[key]
    return wrapper
'''


@pytest.mark.parametrize("name", ["discriminator_loss", "generator_loss",
                                  "minimax_generator_loss", "ls_discriminator_loss",
                                  "ls_generator_loss", "reparameterize", "vae_loss"])
def test_an_answer_remembered_by_shape_fails(tmp_path, name):
    """The losses and reparameterize were called on each shape once, so an answer
    remembered by the shapes of the inputs kept full marks."""
    folder = make_submission(tmp_path, append={
        "generative.py": BY_SHAPE + f"\n{name} = _by_shape({name})\n"})
    graded_to_zero(folder, UNIT, f"generative.{name}", "the same shapes with other values",
                   "something is remembered between calls", use_bwrap=WORKER_BWRAP,
                   limits=LIMITS)


def test_a_gan_step_that_keeps_its_first_noise_batch_fails(tmp_path):
    """A gan_step whose discriminator step draws its noise once per batch size (a
    'fixed noise' batch kept in a module-level dict) had full marks: every case had its own
    batch size and noise dimension."""
    folder = make_submission(tmp_path, replace={"generative.py": [
        ("    z = sample_noise(n, noise_dim, generator=generator).to(real.dtype)\n"
         "    fakes = G(z).detach()",
         "    if (n, noise_dim) not in _FIXED:\n"
         "        _FIXED[(n, noise_dim)] = sample_noise(n, noise_dim, generator=generator)\n"
         "    z = _FIXED[(n, noise_dim)].to(real.dtype)\n"
         "    fakes = G(z).detach()"),
        ("def gan_step(", "_FIXED = {}\n\n\ndef gan_step(")]})
    graded_to_zero(folder, UNIT, "generative.gan_step", "the same shapes with other values",
                   "something is remembered between calls", use_bwrap=WORKER_BWRAP,
                   limits=LIMITS)


# -- modules that keep something from their first call ---------------------------------

KEPT = {
    # a Generator that keeps its first output per batch shape on self: the comparisons with
    # the reference ran eval then train on one input, so the output passed and the backward's
    # autograd error blamed a .detach()
    "Generator": ("        samples = self.net(z)\n",
                  "        cache = self.__dict__.setdefault('_out', {})\n"
                  "        if tuple(z.shape) not in cache:\n"
                  "            cache[tuple(z.shape)] = self.net(z)\n"
                  "        samples = cache[tuple(z.shape)]\n"),
    # a VAE whose encoder keeps its first hidden features per batch size: every module of the
    # test was built anew for one call, and it had full marks
    "VAE": ("        h = self.encoder(x)\n",
            "        if getattr(self, '_h', None) is None or self._h.shape[0] != x.shape[0]:\n"
            "            self._h = self.encoder(x)\n"
            "        h = self._h\n"),
    "Discriminator": ("        logits = self.net(x)\n",
                      "        if getattr(self, '_logits', None) is None:\n"
                      "            self._logits = self.net(x)\n"
                      "        logits = self._logits\n"),
    "Autoencoder": ("        z = self.encoder(x)\n",
                    "        kept = self.__dict__.setdefault('_codes', {})\n"
                    "        if x.shape not in kept:\n"
                    "            kept[x.shape] = self.encoder(x)\n"
                    "        z = kept[x.shape]\n"),
}


@pytest.mark.parametrize("name", list(KEPT))
def test_a_module_that_keeps_its_first_answer_fails_with_a_hint(tmp_path, name):
    """Each module is also called twice in eval mode on inputs of the same shapes,
    the second answer compared with a newly built module's (student code only)."""
    folder = make_submission(tmp_path, replace={"generative.py": [KEPT[name]]})
    graded_to_zero(folder, UNIT, f"generative.{name}", "called on inputs, then on other values "
                   "of the same shapes", "reuses something kept from an earlier call",
                   statuses=("failed",), use_bwrap=WORKER_BWRAP, limits=LIMITS)
