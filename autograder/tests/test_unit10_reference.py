"""Unit 10: the reference ``generative`` checked independently of its own code.

Losses against NumPy formulations in float64 (log-sum-exp form of log sigmoid) and against
``torch.nn.functional.binary_cross_entropy_with_logits``, at logits of +-1000 too, with gradients
against the closed-form derivatives (sigmoid(s) - label); the VAE's KL against a Monte-Carlo
estimate with ``torch.distributions`` and its reconstruction against ``Bernoulli.log_prob``;
``reparameterize`` by its derivatives and by the statistics of many samples; modules against
functional re-implementations that take the parameters in the order ``parameters()`` lists them;
``gan_step`` against a step written out by hand with ``torch.autograd.grad``; the provided data.
"""

import numpy as np
import pytest

from autograder.oracle import load_reference

torch = pytest.importorskip("torch")
F = torch.nn.functional

gen_ = load_reference().generative
data_ = load_reference().generative_data


def t64(a, grad=False):
    return torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


def np_softplus(s):
    """log(1 + exp(s)), stable: max(s, 0) + log1p(exp(-|s|))."""
    s = np.asarray(s, dtype=np.float64)
    return np.maximum(s, 0) + np.log1p(np.exp(-np.abs(s)))


def np_sigmoid(s):
    s = np.asarray(s, dtype=np.float64)
    return np.where(s >= 0, 1 / (1 + np.exp(-np.minimum(np.abs(s), 700))),
                    np.exp(-np.minimum(np.abs(s), 700)) / (1 + np.exp(-np.minimum(np.abs(s),
                                                                                   700))))


LOGITS = [
    ("random (5, 1)", np.random.default_rng(0).standard_normal((5, 1)) * 3),
    ("+-1000 and 0", np.array([[1000.0], [-1000.0], [0.0], [40.0], [-40.0]])),
    ("N=1", np.array([[0.7]])),
    ("flat (7,)", np.random.default_rng(1).standard_normal(7)),
]


@pytest.mark.parametrize("label,real", LOGITS)
def test_discriminator_loss(label, real):
    fake = -np.asarray(real)[::-1].copy() * 0.5 + 0.3
    r, f = t64(real, True), t64(fake, True)
    loss = gen_.discriminator_loss(r, f)
    expected = np_softplus(-real).mean() + np_softplus(fake).mean()
    assert loss.dim() == 0 and np.isclose(loss.item(), expected, rtol=1e-12)
    torch_bce = (F.binary_cross_entropy_with_logits(r, torch.ones_like(r))
                 + F.binary_cross_entropy_with_logits(f, torch.zeros_like(f)))
    assert np.isclose(loss.item(), torch_bce.item(), rtol=1e-12)
    loss.backward()
    np.testing.assert_allclose(r.grad.numpy(), -np_sigmoid(-real) / real.size, rtol=1e-10,
                               atol=1e-15)
    np.testing.assert_allclose(f.grad.numpy(), np_sigmoid(fake) / fake.size, rtol=1e-10,
                               atol=1e-15)


def test_discriminator_loss_with_different_batch_sizes():
    r, f = t64([[2.0], [-1.0]]), t64([[0.5], [0.1], [-3.0]])
    expected = np_softplus([-2.0, 1.0]).mean() + np_softplus([0.5, 0.1, -3.0]).mean()
    assert np.isclose(gen_.discriminator_loss(r, f).item(), expected, rtol=1e-12)


@pytest.mark.parametrize("label,fake", LOGITS)
def test_generator_losses(label, fake):
    f = t64(fake, True)
    loss = gen_.generator_loss(f)
    assert np.isclose(loss.item(), np_softplus(-fake).mean(), rtol=1e-12)
    assert np.isclose(loss.item(), F.binary_cross_entropy_with_logits(
        f, torch.ones_like(f)).item(), rtol=1e-12)
    (grad,) = torch.autograd.grad(loss, f)
    np.testing.assert_allclose(grad.numpy(), -np_sigmoid(-fake) / fake.size, rtol=1e-10,
                               atol=1e-15)

    f = t64(fake, True)
    loss = gen_.minimax_generator_loss(f)
    assert np.isclose(loss.item(), -np_softplus(fake).mean(), rtol=1e-12)
    (grad,) = torch.autograd.grad(loss, f)
    # d/ds log(1 - sigmoid(s)) = -sigmoid(s): vanishes where D rejects the fakes (s << 0)
    np.testing.assert_allclose(grad.numpy(), -np_sigmoid(fake) / fake.size, rtol=1e-10,
                               atol=1e-15)


def test_saturating_gradient_vanishes_where_the_non_saturating_one_does_not():
    s = t64([[-8.0]], True)
    (g_sat,) = torch.autograd.grad(gen_.minimax_generator_loss(s), s)
    s = t64([[-8.0]], True)
    (g_ns,) = torch.autograd.grad(gen_.generator_loss(s), s)
    assert abs(g_sat.item()) < 1e-3 and abs(g_ns.item()) > 0.99


@pytest.mark.parametrize("label,real", LOGITS)
def test_least_squares_losses(label, real):
    fake = np.asarray(real) * -0.7 + 0.2
    r, f = t64(real, True), t64(fake, True)
    loss = gen_.ls_discriminator_loss(r, f)
    assert np.isclose(loss.item(), 0.5 * np.mean((real - 1) ** 2) + 0.5 * np.mean(fake ** 2),
                      rtol=1e-12)
    assert np.isclose(loss.item(), 0.5 * (F.mse_loss(r, torch.ones_like(r))
                                          + F.mse_loss(f, torch.zeros_like(f))).item(),
                      rtol=1e-12)
    r_grad, f_grad = torch.autograd.grad(loss, [r, f])
    np.testing.assert_allclose(r_grad.numpy(), (real - 1) / real.size, rtol=1e-12)
    np.testing.assert_allclose(f_grad.numpy(), fake / fake.size, rtol=1e-12)
    f = t64(fake, True)
    loss = gen_.ls_generator_loss(f)
    assert np.isclose(loss.item(), 0.5 * np.mean((fake - 1) ** 2), rtol=1e-12)
    (grad,) = torch.autograd.grad(loss, f)
    np.testing.assert_allclose(grad.numpy(), (fake - 1) / fake.size, rtol=1e-12)


def test_losses_reject_what_is_not_a_tensor():
    with pytest.raises(TypeError, match="torch.Tensor"):
        gen_.generator_loss(np.zeros((2, 1)))
    with pytest.raises(ValueError, match="empty"):
        gen_.discriminator_loss(torch.zeros(0, 1), torch.zeros(2, 1))


# -- the VAE --------------------------------------------------------------------------------------

def test_reparameterize_values_and_gradients():
    rng = np.random.default_rng(2)
    mu_np, lv_np, eps_np = (rng.standard_normal((3, 4)) for _ in range(3))
    mu, lv = t64(mu_np, True), t64(lv_np, True)
    z = gen_.reparameterize(mu, lv, t64(eps_np))
    np.testing.assert_allclose(z.detach().numpy(), mu_np + np.sqrt(np.exp(lv_np)) * eps_np,
                               rtol=1e-12)
    up = rng.standard_normal((3, 4))
    d_mu, d_lv = torch.autograd.grad(z, [mu, lv], grad_outputs=t64(up))
    np.testing.assert_allclose(d_mu.numpy(), up, rtol=1e-12)
    np.testing.assert_allclose(d_lv.numpy(), up * eps_np * 0.5 * np.exp(0.5 * lv_np), rtol=1e-12)


def test_reparameterized_samples_have_the_asked_mean_and_variance():
    gen = torch.Generator().manual_seed(0)
    eps = torch.randn(200_000, 2, generator=gen, dtype=torch.float64)
    mu = torch.tensor([[1.5, -2.0]], dtype=torch.float64).expand(200_000, 2)
    logvar = torch.tensor([[np.log(0.25), np.log(4.0)]], dtype=torch.float64).expand(200_000, 2)
    z = gen_.reparameterize(mu, logvar, eps)
    np.testing.assert_allclose(z.mean(0).numpy(), [1.5, -2.0], atol=0.02)
    np.testing.assert_allclose(z.var(0).numpy(), [0.25, 4.0], rtol=0.02)


def test_vae_kl_against_a_monte_carlo_estimate_and_reconstruction_against_bernoulli():
    D_ = torch.distributions
    rng = np.random.default_rng(3)
    mu, logvar = t64(rng.standard_normal((3, 2)) * 0.8), t64(rng.standard_normal((3, 2)) * 0.5)
    logits, x = t64(rng.standard_normal((3, 5)) * 4), t64(rng.uniform(0, 1, (3, 5)))
    loss, rec, kl = gen_.vae_loss(logits, x, mu, logvar)
    q = D_.Normal(mu, torch.exp(0.5 * logvar))
    p = D_.Normal(torch.zeros_like(mu), torch.ones_like(mu))
    z = q.sample((400_000,))
    kl_mc = (q.log_prob(z) - p.log_prob(z)).sum(-1).mean()  # per example, then over the batch
    assert abs(kl.item() - kl_mc.item()) < 0.01 * max(1.0, kl.item())
    kl_exact = D_.kl_divergence(q, p).sum(-1).mean()
    assert np.isclose(kl.item(), kl_exact.item(), rtol=1e-12)
    # -log p(x | z) of a continuous Bernoulli target is the binary cross entropy with logits
    bce = -(x * F.logsigmoid(logits) + (1 - x) * F.logsigmoid(-logits)).sum(1).mean()
    assert np.isclose(rec.item(), bce.item(), rtol=1e-12)
    x01 = (x > 0.5).double()
    rec01 = gen_.vae_loss(logits, x01, mu, logvar)[1]
    assert np.isclose(rec01.item(), -D_.Bernoulli(logits=logits).log_prob(x01).sum(1).mean().item(),
                      rtol=1e-12)
    assert np.isclose(loss.item(), rec.item() + kl.item(), rtol=1e-14)


def test_vae_loss_is_stable_for_huge_logits_and_zero_for_a_perfect_prior_match():
    logits = t64([[1000.0, -1000.0]])
    x = t64([[1.0, 0.0]])
    loss, rec, kl = gen_.vae_loss(logits, x, t64([[0.0]]), t64([[0.0]]))
    assert rec.item() == 0.0 and kl.item() == 0.0 and loss.item() == 0.0
    rec = gen_.vae_loss(logits, 1 - x, t64([[0.0]]), t64([[0.0]]))[1]
    assert np.isclose(rec.item(), 2000.0, rtol=1e-12)


def linear_stack(params, x, acts):
    """x through linear layers (weights and biases consumed in order) with activations acts."""
    it = iter(params)
    for act in acts:
        w, b = next(it), next(it)
        x = F.linear(x, w, b)
        x = act(x) if act is not None else x
    return x


def randomized(module, seed=4):
    gen = torch.Generator().manual_seed(seed)
    module = module.double()
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(0.4 * torch.randn(p.shape, generator=gen, dtype=torch.float64))
    return module


def test_autoencoder_layers_in_order_and_outputs():
    m = randomized(gen_.Autoencoder(7, 2, hidden_dims=(5, 3)))
    assert [tuple(p.shape) for p in m.parameters()] == [
        (5, 7), (5,), (3, 5), (3,), (2, 3), (2,), (3, 2), (3,), (5, 3), (5,), (7, 5), (7,)]
    x = t64(np.random.default_rng(5).standard_normal((4, 7)))
    ps = list(m.parameters())
    z = linear_stack(ps[:6], x, [torch.relu, torch.relu, None])
    out = linear_stack(ps[6:], z, [torch.relu, torch.relu, None])
    np.testing.assert_allclose(m.encode(x).detach().numpy(), z.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(m(x).detach().numpy(), out.detach().numpy(), rtol=1e-12)
    lin = gen_.Autoencoder(4, 2, hidden_dims=())
    assert [tuple(p.shape) for p in lin.parameters()] == [(2, 4), (2,), (4, 2), (4,)]


def test_vae_layers_in_order_and_forward():
    m = randomized(gen_.VAE(6, 2, hidden_dim=4))
    assert [tuple(p.shape) for p in m.parameters()] == [
        (4, 6), (4,), (2, 4), (2,), (2, 4), (2,), (4, 2), (4,), (6, 4), (6,)]
    w1, b1, wm, bm, wv, bv, w2, b2, w3, b3 = m.parameters()
    rng = np.random.default_rng(6)
    x, eps = t64(rng.uniform(0, 1, (3, 6))), t64(rng.standard_normal((3, 2)))
    h = torch.relu(F.linear(x, w1, b1))
    mu, lv = F.linear(h, wm, bm), F.linear(h, wv, bv)
    z = mu + torch.exp(lv / 2) * eps
    logits = F.linear(torch.relu(F.linear(z, w2, b2)), w3, b3)
    got = m(x, eps)
    for g, e in zip(got, (logits, mu, lv)):
        np.testing.assert_allclose(g.detach().numpy(), e.detach().numpy(), rtol=1e-12)


def test_gan_modules():
    D = randomized(gen_.Discriminator(3, hidden_dims=(4, 5)))
    assert [tuple(p.shape) for p in D.parameters()] == [(4, 3), (4,), (5, 4), (5,), (1, 5), (1,)]
    x = t64(np.random.default_rng(7).standard_normal((6, 3)))
    leaky = lambda v: F.leaky_relu(v, 0.2)  # noqa: E731
    np.testing.assert_allclose(D(x).detach().numpy(),
                               linear_stack(list(D.parameters()), x, [leaky, leaky, None])
                               .detach().numpy(), rtol=1e-12)
    G = randomized(gen_.Generator(2, 3, hidden_dims=(4,)))
    assert [tuple(p.shape) for p in G.parameters()] == [(4, 2), (4,), (3, 4), (3,)]
    z = t64(np.random.default_rng(8).uniform(-1, 1, (5, 2)))
    out = G(z).detach().numpy()
    np.testing.assert_allclose(out, linear_stack(list(G.parameters()), z, [torch.relu, torch.tanh])
                               .detach().numpy(), rtol=1e-12)
    assert out.shape == (5, 3) and np.all(np.abs(out) < 1)
    assert gen_.Discriminator(2, hidden_dims=())(torch.zeros(3, 2)).shape == (3, 1)


def test_sample_noise_and_corrupt_use_only_their_generator():
    torch.manual_seed(0)
    before = torch.get_rng_state()
    z = gen_.sample_noise(1000, 3, generator=torch.Generator().manual_seed(5))
    assert torch.equal(torch.get_rng_state(), before)
    assert z.dtype == torch.float32 and z.shape == (1000, 3)
    assert z.min() >= -1 and z.max() < 1 and abs(z.mean().item()) < 0.05
    assert abs(z.var().item() - 1 / 3) < 0.02  # uniform on [-1, 1): variance 4 / 12
    u = torch.rand(1000, 3, generator=torch.Generator().manual_seed(5))
    assert torch.equal(z, u * 2 - 1)
    x = t64(np.random.default_rng(9).uniform(0, 1, (300, 20)))
    keep = x.clone()
    noisy = gen_.corrupt(x, noise_std=0.5, generator=torch.Generator().manual_seed(1))
    assert torch.equal(x, keep) and noisy.dtype == torch.float64
    noise = (noisy - x).numpy()
    assert abs(noise.std() - 0.5) < 0.02 and abs(noise.mean()) < 0.02
    assert noisy.max() > 1.5  # not clipped
    assert torch.equal(gen_.corrupt(x, noise_std=0.0, generator=torch.Generator()), x)
    with pytest.raises(ValueError, match="-1"):
        gen_.corrupt(x, noise_std=-1, generator=torch.Generator())


# -- gan_step -------------------------------------------------------------------------------------

def _small_gan(seed):
    D = randomized(gen_.Discriminator(2, hidden_dims=(5,)), seed)
    G = randomized(gen_.Generator(3, 2, hidden_dims=(4,)), seed + 1)
    return D, G


@pytest.mark.parametrize("loss", ["bce", "ls"])
def test_gan_step_against_a_step_written_out(loss):
    D, G = _small_gan(10)
    D2, G2 = _small_gan(10)
    real = t64(np.random.default_rng(11).standard_normal((6, 2)))
    lr = 0.3
    got = gen_.gan_step(D, G, torch.optim.SGD(D.parameters(), lr=lr),
                        torch.optim.SGD(G.parameters(), lr=lr), real, noise_dim=3,
                        generator=torch.Generator().manual_seed(12), loss=loss)
    # by hand: the same two draws from the same generator
    g = torch.Generator().manual_seed(12)
    z1 = (torch.rand(6, 3, generator=g) * 2 - 1).double()
    z2 = (torch.rand(6, 3, generator=g) * 2 - 1).double()
    with torch.no_grad():
        fakes = G2(z1)
    sr, sf = D2(real), D2(fakes)
    if loss == "bce":
        d_loss = -F.logsigmoid(sr).mean() - torch.log1p(-torch.sigmoid(sf)).mean()
    else:
        d_loss = 0.5 * ((sr - 1) ** 2).mean() + 0.5 * (sf ** 2).mean()
    d_grads = torch.autograd.grad(d_loss, list(D2.parameters()))
    with torch.no_grad():
        for p, gr in zip(D2.parameters(), d_grads):
            p -= lr * gr
    sg = D2(G2(z2))
    g_loss = -F.logsigmoid(sg).mean() if loss == "bce" else 0.5 * ((sg - 1) ** 2).mean()
    g_grads = torch.autograd.grad(g_loss, list(G2.parameters()))
    with torch.no_grad():
        for p, gr in zip(G2.parameters(), g_grads):
            p -= lr * gr
    assert isinstance(got[0], float) and isinstance(got[1], float)
    np.testing.assert_allclose(got, [d_loss.item(), g_loss.item()], rtol=1e-12)
    for a, b in zip(list(D.parameters()) + list(G.parameters()),
                    list(D2.parameters()) + list(G2.parameters())):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-12)


def test_gan_step_discriminator_update_leaves_the_generator_alone():
    D, G = _small_gan(20)
    g_before = [p.detach().clone() for p in G.parameters()]
    seen = {}

    class Watching(torch.optim.SGD):
        def step(self, closure=None):
            seen.setdefault("g_at_d_step", [p.detach().clone() for p in G.parameters()])
            seen.setdefault("g_grads_at_d_step", [p.grad for p in G.parameters()])
            return super().step(closure)

    gen_.gan_step(D, G, Watching(D.parameters(), lr=0.1), torch.optim.SGD(G.parameters(), lr=0.1),
                  t64(np.ones((3, 2))), noise_dim=3, generator=torch.Generator().manual_seed(0))
    assert all(torch.equal(a, b) for a, b in zip(seen["g_at_d_step"], g_before))
    assert all(gr is None or not gr.any() for gr in seen["g_grads_at_d_step"])
    assert not all(torch.equal(a, b.detach()) for a, b in zip(g_before, G.parameters()))


def test_gan_step_rejects_an_unknown_loss():
    D, G = _small_gan(0)
    with pytest.raises(ValueError, match="wgan"):
        gen_.gan_step(D, G, None, None, t64(np.ones((2, 2))), noise_dim=3,
                      generator=torch.Generator(), loss="wgan")


# -- provided data --------------------------------------------------------------------------------

def test_digits_in_both_ranges():
    unit = data_.load_digits_generative(scale="unit")
    tanh = data_.load_digits_generative(scale="tanh")
    assert unit["X_train"].dtype == np.float32 and unit["X_train"].shape == (1197, 64)
    assert unit["X_train"].min() == 0.0 and unit["X_train"].max() == 1.0
    assert tanh["X_train"].min() == -1.0 and tanh["X_train"].max() == 1.0
    np.testing.assert_allclose(tanh["X_val"], unit["X_val"] * 2 - 1, atol=1e-6)
    np.testing.assert_array_equal(unit["y_test"], tanh["y_test"])


def test_ring_and_mode_coverage():
    x, labels = data_.make_ring(4000, seed=1)
    centers = data_.ring_centers()
    assert np.allclose(np.linalg.norm(centers, axis=1), 2.0)
    assert np.abs(x - centers[labels]).max() < data_.RING_STD * 6
    covered, fractions = data_.modes_covered(x)
    assert covered == 8 and np.all(fractions > 0.1)
    collapsed = np.repeat(centers[:2], 500, axis=0)
    assert data_.modes_covered(collapsed)[0] == 2
    barely = np.concatenate([np.repeat(centers[:1], 96, axis=0), np.zeros((904, 2))])
    assert data_.modes_covered(barely)[0] == 1  # 9.6% of samples near mode 0, none elsewhere
    few = np.concatenate([np.repeat(centers[:1], 49, axis=0), np.zeros((951, 2))])
    assert data_.modes_covered(few)[0] == 0  # 4.9% < 5%


def test_image_grid():
    images = np.stack([np.full(64, v) for v in (-1.0, 0.0, 1.0)])
    grid = data_.image_grid(images, rows=1, value_range=(-1, 1))
    assert grid.shape == (8, 26)
    assert grid[0, 0] == 0.0 and grid[0, 9] == 0.5 and grid[0, 18] == 1.0 and grid[0, 8] == 0.5
