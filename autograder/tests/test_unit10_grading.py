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
