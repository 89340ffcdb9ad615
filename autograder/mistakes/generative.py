"""Known mistakes of unit 10, ``generative``: wrong variants with the signature of the function
(or the constructor of the module) they imitate.

A failing student answer that matches one gets its description as hint; each is tested to be
recognised (tests/test_hints.py). The few that raise (``_raising``) are the reference with
one edit of its source.
"""

import torch
from torch import nn
from torch.nn import functional as F

from ..oracle import load_reference

G_ = load_reference().generative


def _unstable_log_sigmoid(s):
    return torch.log(torch.sigmoid(s))


def _unstable_log_one_minus_sigmoid(s):
    return torch.log(1 - torch.sigmoid(s))


# -- discriminator_loss --------------------------------------------------------------------------

def d_labels_swapped(logits_real, logits_fake):
    return F.softplus(logits_real).mean() + F.softplus(-logits_fake).mean()


def d_sums(logits_real, logits_fake):
    return F.softplus(-logits_real).sum() + F.softplus(logits_fake).sum()


def d_unstable(logits_real, logits_fake):
    return (-_unstable_log_sigmoid(logits_real).mean()
            - _unstable_log_one_minus_sigmoid(logits_fake).mean())


def d_averaged(logits_real, logits_fake):
    return 0.5 * (F.softplus(-logits_real).mean() + F.softplus(logits_fake).mean())


def d_smoothed(logits_real, logits_fake):
    return (F.binary_cross_entropy_with_logits(logits_real, torch.full_like(logits_real, 0.9))
            + F.softplus(logits_fake).mean())


def d_one_mean(logits_real, logits_fake):
    return torch.cat([F.softplus(-logits_real).reshape(-1),
                      F.softplus(logits_fake).reshape(-1)]).mean()


# -- generator losses ----------------------------------------------------------------------------

def g_saturating(logits_fake):
    return -F.softplus(logits_fake).mean()


def g_label_zero(logits_fake):
    return F.softplus(logits_fake).mean()


def g_sum(logits_fake):
    return F.softplus(-logits_fake).sum()


def g_unstable(logits_fake):
    return -_unstable_log_sigmoid(logits_fake).mean()


def mm_non_saturating(logits_fake):
    return F.softplus(-logits_fake).mean()


def mm_sign(logits_fake):
    return F.softplus(logits_fake).mean()


def mm_sum(logits_fake):
    return -F.softplus(logits_fake).sum()


def mm_unstable(logits_fake):
    return _unstable_log_one_minus_sigmoid(logits_fake).mean()


# -- least squares -------------------------------------------------------------------------------

def lsd_swapped(scores_real, scores_fake):
    return 0.5 * (scores_real ** 2).mean() + 0.5 * ((scores_fake - 1) ** 2).mean()


def lsd_no_half(scores_real, scores_fake):
    return ((scores_real - 1) ** 2).mean() + (scores_fake ** 2).mean()


def lsd_sums(scores_real, scores_fake):
    return 0.5 * ((scores_real - 1) ** 2).sum() + 0.5 * (scores_fake ** 2).sum()


def lsd_sigmoid(scores_real, scores_fake):
    return (0.5 * ((torch.sigmoid(scores_real) - 1) ** 2).mean()
            + 0.5 * (torch.sigmoid(scores_fake) ** 2).mean())


def lsd_fake_minus_one(scores_real, scores_fake):
    return 0.5 * ((scores_real - 1) ** 2).mean() + 0.5 * ((scores_fake + 1) ** 2).mean()


def lsg_target_zero(scores_fake):
    return 0.5 * (scores_fake ** 2).mean()


def lsg_no_half(scores_fake):
    return ((scores_fake - 1) ** 2).mean()


def lsg_sum(scores_fake):
    return 0.5 * ((scores_fake - 1) ** 2).sum()


def lsg_sigmoid(scores_fake):
    return 0.5 * ((torch.sigmoid(scores_fake) - 1) ** 2).mean()


def lsg_batch_only(scores_fake):
    return ((scores_fake - 1) ** 2).sum() / (2 * scores_fake.shape[0])


# -- the VAE -------------------------------------------------------------------------------------

def rep_std_exp(mu, logvar, eps):
    return mu + torch.exp(logvar) * eps


def rep_logvar_as_std(mu, logvar, eps):
    return mu + logvar * eps


def rep_inverse_std(mu, logvar, eps):
    return mu + torch.exp(-0.5 * logvar) * eps


def _kl(mu, logvar):
    return -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())


def vae_kl_sign(logits, x, mu, logvar):
    n = len(x)
    rec = F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / n
    kl = -_kl(mu, logvar) / n
    return rec + kl, rec, kl


def vae_feature_mean(logits, x, mu, logvar):
    n = len(x)
    rec = F.binary_cross_entropy_with_logits(logits, x)
    kl = _kl(mu, logvar) / n
    return rec + kl, rec, kl


def vae_sums(logits, x, mu, logvar):
    rec = F.binary_cross_entropy_with_logits(logits, x, reduction="sum")
    kl = _kl(mu, logvar)
    return rec + kl, rec, kl


def vae_kl_summed(logits, x, mu, logvar):
    rec = F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / len(x)
    kl = _kl(mu, logvar)
    return rec + kl, rec, kl


def vae_unstable(logits, x, mu, logvar):
    n = len(x)
    p = torch.sigmoid(logits)
    rec = -(x * torch.log(p) + (1 - x) * torch.log(1 - p)).sum() / n
    kl = _kl(mu, logvar) / n
    return rec + kl, rec, kl


def vae_kl_mean(logits, x, mu, logvar):
    n = len(x)
    rec = F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / n
    kl = -0.5 * torch.mean(1 + logvar - mu.pow(2) - logvar.exp())
    return rec + kl, rec, kl


def vae_bce_probabilities(logits, x, mu, logvar):
    n = len(x)
    rec = F.binary_cross_entropy(torch.sigmoid(logits), x, reduction="sum") / n
    kl = _kl(mu, logvar) / n
    return rec + kl, rec, kl


def vae_squared_error(logits, x, mu, logvar):
    n = len(x)
    rec = F.mse_loss(torch.sigmoid(logits), x, reduction="sum") / n
    kl = _kl(mu, logvar) / n
    return rec + kl, rec, kl


def vae_kl_std_as_exp_logvar(logits, x, mu, logvar):
    """KL written with sigma = exp(logvar) (log sigma^2 = 2 logvar, sigma^2 = exp(2 logvar))."""
    n = len(x)
    rec = F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / n
    kl = -0.5 * torch.sum(1 + 2 * logvar - mu.pow(2) - torch.exp(2 * logvar)) / n
    return rec + kl, rec, kl


def vae_kl_no_half(logits, x, mu, logvar):
    n = len(x)
    rec = F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / n
    kl = 2 * _kl(mu, logvar) / n
    return rec + kl, rec, kl


def vae_kl_no_one(logits, x, mu, logvar):
    """The KL without its constant 1 per latent dimension: L / 2 too large per example."""
    n = len(x)
    rec = F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / n
    kl = -0.5 * torch.sum(logvar - mu.pow(2) - logvar.exp()) / n
    return rec + kl, rec, kl


# -- corrupt, sample_noise -----------------------------------------------------------------------

def corrupt_clipped(x, *, noise_std, generator):
    noise = torch.randn(x.shape, generator=generator, dtype=x.dtype)
    return torch.clamp(x + noise_std * noise, 0.0, 1.0)


def corrupt_variance(x, *, noise_std, generator):
    return x + noise_std ** 2 * torch.randn(x.shape, generator=generator, dtype=x.dtype)


def corrupt_float32_noise(x, *, noise_std, generator):
    return x + noise_std * torch.randn(x.shape, generator=generator).to(x.dtype)


def noise_unit(batch_size, dim, *, generator):
    return torch.rand(batch_size, dim, generator=generator)


def noise_normal(batch_size, dim, *, generator):
    return torch.randn(batch_size, dim, generator=generator)


def noise_half(batch_size, dim, *, generator):
    return torch.rand(batch_size, dim, generator=generator) - 0.5


# -- modules -------------------------------------------------------------------------------------

class AutoencoderLatentReLU(G_.Autoencoder):
    def __init__(self, input_dim, latent_dim, *, hidden_dims=(128,)):
        super().__init__(input_dim, latent_dim, hidden_dims=hidden_dims)
        self.encoder.append(nn.ReLU())


class AutoencoderSigmoidOutput(G_.Autoencoder):
    def __init__(self, input_dim, latent_dim, *, hidden_dims=(128,)):
        super().__init__(input_dim, latent_dim, hidden_dims=hidden_dims)
        self.decoder.append(nn.Sigmoid())


class AutoencoderSameOrder(G_.Autoencoder):
    """The decoder's hidden sizes not reversed."""

    def __init__(self, input_dim, latent_dim, *, hidden_dims=(128,)):
        super().__init__(input_dim, latent_dim, hidden_dims=hidden_dims)
        other = G_.Autoencoder(input_dim, latent_dim, hidden_dims=tuple(reversed(hidden_dims)))
        self.decoder = other.decoder


class VAELogvarFirst(G_.VAE):
    def __init__(self, input_dim, latent_dim, *, hidden_dim=256):
        super().__init__(input_dim, latent_dim, hidden_dim=hidden_dim)

    def encode(self, x):
        h = self.encoder(x)
        return self.fc_logvar(h), self.fc_mu(h)


class VAEVariance(G_.VAE):
    """encode's second output made positive by exp: the variance, not its log."""

    def encode(self, x):
        h = self.encoder(x)
        return self.fc_mu(h), torch.exp(self.fc_logvar(h))


class VAESoftplus(G_.VAE):
    """encode's second output made positive by a softplus (as a standard deviation is)."""

    def encode(self, x):
        h = self.encoder(x)
        return self.fc_mu(h), F.softplus(self.fc_logvar(h))


class VAEDecodesMu(G_.VAE):
    """The decoder fed mu instead of the sampled code."""

    def forward(self, x, eps):
        mu, logvar = self.encode(x)
        return self.decode(mu), mu, logvar


class VAEDecodesMuInEval(G_.VAE):
    """The decoder fed mu in eval mode (a common habit), the sampled code in train mode."""

    def forward(self, x, eps):
        mu, logvar = self.encode(x)
        z = G_.reparameterize(mu, logvar, eps) if self.training else mu
        return self.decode(z), mu, logvar


class DiscriminatorReLU(G_.Discriminator):
    def __init__(self, input_dim, *, hidden_dims=(256, 256)):
        super().__init__(input_dim, hidden_dims=hidden_dims)
        for i, layer in enumerate(self.net):
            if isinstance(layer, nn.LeakyReLU):
                self.net[i] = nn.ReLU()


class DiscriminatorSigmoid(G_.Discriminator):
    def __init__(self, input_dim, *, hidden_dims=(256, 256)):
        super().__init__(input_dim, hidden_dims=hidden_dims)
        self.net.append(nn.Sigmoid())


class DiscriminatorSlope(G_.Discriminator):
    def __init__(self, input_dim, *, hidden_dims=(256, 256)):
        super().__init__(input_dim, hidden_dims=hidden_dims)
        for i, layer in enumerate(self.net):
            if isinstance(layer, nn.LeakyReLU):
                self.net[i] = nn.LeakyReLU()  # PyTorch's default slope 0.01


class GeneratorNoTanh(G_.Generator):
    def __init__(self, noise_dim, output_dim, *, hidden_dims=(256, 256)):
        super().__init__(noise_dim, output_dim, hidden_dims=hidden_dims)
        self.net[-1] = nn.Identity()


class GeneratorSigmoid(G_.Generator):
    def __init__(self, noise_dim, output_dim, *, hidden_dims=(256, 256)):
        super().__init__(noise_dim, output_dim, hidden_dims=hidden_dims)
        self.net[-1] = nn.Sigmoid()


class GeneratorLeaky(G_.Generator):
    def __init__(self, noise_dim, output_dim, *, hidden_dims=(256, 256)):
        super().__init__(noise_dim, output_dim, hidden_dims=hidden_dims)
        for i, layer in enumerate(self.net):
            if isinstance(layer, nn.ReLU):
                self.net[i] = nn.LeakyReLU(0.2)


# -- gan_step ------------------------------------------------------------------------------------

def _losses(loss):
    if loss == "bce":
        return G_.discriminator_loss, G_.generator_loss
    return G_.ls_discriminator_loss, G_.ls_generator_loss


def _noise(real, noise_dim, generator):
    return G_.sample_noise(len(real), noise_dim, generator=generator).to(real.dtype)


def gan_not_detached(D, G, d_optimizer, g_optimizer, real, *, noise_dim, generator, loss="bce"):
    """Fakes not detached, both optimizers zeroed once at the start: G's update follows the
    discriminator's loss too."""
    d_fn, g_fn = _losses(loss)
    d_optimizer.zero_grad()
    g_optimizer.zero_grad()
    fakes = G(_noise(real, noise_dim, generator))
    d_loss = d_fn(D(real), D(fakes))
    d_loss.backward()
    d_optimizer.step()
    g_loss = g_fn(D(G(_noise(real, noise_dim, generator))))
    g_loss.backward()
    g_optimizer.step()
    return d_loss.item(), g_loss.item()


def gan_same_noise(D, G, d_optimizer, g_optimizer, real, *, noise_dim, generator, loss="bce"):
    d_fn, g_fn = _losses(loss)
    z = _noise(real, noise_dim, generator)
    d_optimizer.zero_grad()
    d_loss = d_fn(D(real), D(G(z).detach()))
    d_loss.backward()
    d_optimizer.step()
    g_optimizer.zero_grad()
    g_loss = g_fn(D(G(z)))
    g_loss.backward()
    g_optimizer.step()
    return d_loss.item(), g_loss.item()


def gan_no_zero_grad(D, G, d_optimizer, g_optimizer, real, *, noise_dim, generator, loss="bce"):
    d_fn, g_fn = _losses(loss)
    d_loss = d_fn(D(real), D(G(_noise(real, noise_dim, generator)).detach()))
    d_loss.backward()
    d_optimizer.step()
    g_loss = g_fn(D(G(_noise(real, noise_dim, generator))))
    g_loss.backward()
    g_optimizer.step()
    return d_loss.item(), g_loss.item()


def gan_zeroes_d_twice(D, G, d_optimizer, g_optimizer, real, *, noise_dim, generator,
                       loss="bce"):
    """The generator step zeroes the discriminator's optimizer (a copy-paste slip): G's
    gradients from before are added to its update."""
    d_fn, g_fn = _losses(loss)
    d_optimizer.zero_grad()
    d_loss = d_fn(D(real), D(G(_noise(real, noise_dim, generator)).detach()))
    d_loss.backward()
    d_optimizer.step()
    d_optimizer.zero_grad()
    g_loss = g_fn(D(G(_noise(real, noise_dim, generator))))
    g_loss.backward()
    g_optimizer.step()
    return d_loss.item(), g_loss.item()


def gan_noise_in_real_dtype(D, G, d_optimizer, g_optimizer, real, *, noise_dim, generator,
                            loss="bce"):
    """The noise drawn directly in real's dtype (float64 draws are other numbers)."""
    d_fn, g_fn = _losses(loss)

    def noise():
        return torch.rand(len(real), noise_dim, generator=generator, dtype=real.dtype) * 2 - 1

    d_optimizer.zero_grad()
    d_loss = d_fn(D(real), D(G(noise()).detach()))
    d_loss.backward()
    d_optimizer.step()
    g_optimizer.zero_grad()
    g_loss = g_fn(D(G(noise())))
    g_loss.backward()
    g_optimizer.step()
    return d_loss.item(), g_loss.item()


def gan_saturating(D, G, d_optimizer, g_optimizer, real, *, noise_dim, generator, loss="bce"):
    d_fn, g_fn = _losses(loss)
    if loss == "bce":
        g_fn = G_.minimax_generator_loss
    d_optimizer.zero_grad()
    d_loss = d_fn(D(real), D(G(_noise(real, noise_dim, generator)).detach()))
    d_loss.backward()
    d_optimizer.step()
    g_optimizer.zero_grad()
    g_loss = g_fn(D(G(_noise(real, noise_dim, generator))))
    g_loss.backward()
    g_optimizer.step()
    return d_loss.item(), g_loss.item()


MISTAKES = {
    "generative.discriminator_loss": [
        ("labels swapped: real examples must have label 1 (-log sigmoid(s_real)) and fakes "
         "label 0 (-log(1 - sigmoid(s_fake)))", d_labels_swapped),
        ("sums instead of means: average each term over its batch", d_sums),
        ("log(sigmoid(s)) computed directly underflows to log(0) for large |s|: use "
         "-log sigmoid(s) = softplus(-s) (F.softplus or F.binary_cross_entropy_with_logits)",
         d_unstable),
        ("the two means averaged (divided by 2): the docstring adds them", d_averaged),
        ("one mean over real and fake examples together: each term is the mean over its own "
         "batch", d_one_mean),
        ("the real labels are smoothed (0.9): this loss labels real examples exactly 1 and "
         "fakes 0 (label smoothing is a training trick the docstring does not ask for)",
         d_smoothed),
    ],
    "generative.generator_loss": [
        ("the saturating form log(1 - D(G(z))): generator_loss is the non-saturating "
         "-log D(G(z))", g_saturating),
        ("label 0 for the fakes: the generator wants D to call its fakes real (label 1)",
         g_label_zero),
        ("a sum instead of a mean over the batch", g_sum),
        ("log(sigmoid(s)) computed directly underflows to log(0) for large |s|: use "
         "-log sigmoid(s) = softplus(-s)", g_unstable),
    ],
    "generative.minimax_generator_loss": [
        ("the non-saturating form -log D(G(z)): minimax_generator_loss is log(1 - D(G(z)))",
         mm_non_saturating),
        ("sign flipped: the generator minimises mean(log(1 - sigmoid(s)))", mm_sign),
        ("a sum instead of a mean over the batch", mm_sum),
        ("log(1 - sigmoid(s)) computed directly underflows to log(0) for large s: use "
         "log(1 - sigmoid(s)) = -softplus(s)", mm_unstable),
    ],
    "generative.ls_discriminator_loss": [
        ("targets swapped: real scores are pushed to 1, fake scores to 0", lsd_swapped),
        ("the factors 0.5 left out", lsd_no_half),
        ("sums instead of means", lsd_sums),
        ("a sigmoid applied to the scores: least squares works on the raw scores",
         lsd_sigmoid),
        ("the fake scores are pushed to 0, not -1: the term is 0.5 * mean(scores_fake^2) (the "
         "targets -1 and 1 are another LSGAN variant)", lsd_fake_minus_one),
    ],
    "generative.ls_generator_loss": [
        ("target 0: the generator pushes the scores of its fakes to 1", lsg_target_zero),
        ("the factor 0.5 left out", lsg_no_half),
        ("a sum instead of a mean", lsg_sum),
        ("a sigmoid applied to the scores: least squares works on the raw scores",
         lsg_sigmoid),
        ("divided by the batch size instead of the number of entries: the mean is over every "
         "entry of scores_fake", lsg_batch_only),
    ],
    "generative.reparameterize": [
        ("std taken as exp(logvar): that is the variance; the standard deviation is "
         "exp(0.5 * logvar)", rep_std_exp),
        ("logvar used as the standard deviation: it is the log of the variance, so "
         "std = exp(0.5 * logvar)", rep_logvar_as_std),
        ("exp(-0.5 * logvar) is 1 / std: the sign of the exponent is flipped",
         rep_inverse_std),
    ],
    "generative.vae_loss": [
        ("the KL's sign flipped: KL = -0.5 * sum(1 + logvar - mu^2 - exp(logvar)) is >= 0",
         vae_kl_sign),
        ("the binary cross entropy averaged over features: sum it over the D features, then "
         "average over the batch", vae_feature_mean),
        # before the sums of both terms: a student whose reconstruction is right is told of the KL
        ("the KL is summed over the batch: divide it by N too, as you divided the reconstruction "
         "(both terms are means over the examples)", vae_kl_summed),
        ("sums over the batch instead of means: divide both terms by N", vae_sums),
        ("log(sigmoid(logits)) computed directly underflows for large |logits|: use "
         "F.binary_cross_entropy_with_logits (or softplus)", vae_unstable),
        ("the KL written with sigma = exp(logvar): logvar is log(sigma^2)",
         vae_kl_std_as_exp_logvar),
        ("the KL averaged over every entry (N * L): sum it over the latent dimensions, then "
         "average over the batch", vae_kl_mean),
        ("binary cross entropy on sigmoid probabilities (F.binary_cross_entropy clamps its "
         "logarithms at -100): use F.binary_cross_entropy_with_logits, exact for logits of any "
         "size", vae_bce_probabilities),
        ("the reconstruction is the squared error of sigmoid(logits): it is the binary cross "
         "entropy with logits, summed over the features and averaged over the batch "
         "(F.binary_cross_entropy_with_logits(logits, x, reduction='sum') / N)",
         vae_squared_error),
        ("the factor 0.5 of the KL is missing: KL = -0.5 * sum(1 + logvar - mu^2 - exp(logvar))",
         vae_kl_no_half),
        ("the 1 inside the KL's sum is missing: KL = -0.5 * sum(1 + logvar - mu^2 - "
         "exp(logvar)), one 1 per latent dimension (the KL of q = N(0, I) is then 0)",
         vae_kl_no_one),
    ],
    "generative.corrupt": [
        ("the noisy input clipped to [0, 1]: the docstring says not clipped", corrupt_clipped),
        ("noise scaled by noise_std ** 2: noise_std is the standard deviation",
         corrupt_variance),
        ("the noise drawn in float32 and converted: draw it in x's dtype "
         "(torch.randn(..., dtype=x.dtype))", corrupt_float32_noise),
    ],
    "generative.sample_noise": [
        ("uniform in [0, 1): scale it to [-1, 1) with * 2 - 1", noise_unit),
        ("normal noise (torch.randn): the docstring asks for uniform noise, torch.rand",
         noise_normal),
        ("uniform in [-0.5, 0.5): multiply by 2 before subtracting 1", noise_half),
    ],
    "generative.Autoencoder": [
        ("a ReLU on the code: the encoder's last linear layer has no activation",
         AutoencoderLatentReLU),
        ("a sigmoid at the decoder's end: it returns logits", AutoencoderSigmoidOutput),
        ("the decoder's hidden sizes in the encoder's order: they are reversed",
         AutoencoderSameOrder),
    ],
    "generative.VAE": [
        ("logvar's head used as mu's: register and use fc_mu before fc_logvar",
         VAELogvarFirst),
        # before VAEDecodesMu: in eval mode the two give the same output
        ("in eval mode the decoder is fed mu: the code is reparameterize(mu, logvar, eps) in "
         "train and eval mode alike (the caller passes eps = 0 to decode the mean)",
         VAEDecodesMuInEval),
        ("the decoder fed mu instead of the reparameterized code", VAEDecodesMu),
        ("encode returns the log-variance: fc_logvar's output as it is, which may be negative "
         "(reparameterize takes exp(0.5 * logvar)); no exp, which makes it the variance",
         VAEVariance),
        ("encode returns the log-variance: fc_logvar's output as it is, which may be negative "
         "(reparameterize takes exp(0.5 * logvar)); no softplus, which is for a standard "
         "deviation", VAESoftplus),
    ],
    "generative.Discriminator": [
        ("ReLU where LeakyReLU(0.2) is asked", DiscriminatorReLU),
        ("a sigmoid at the end: the discriminator returns logits", DiscriminatorSigmoid),
        ("LeakyReLU with PyTorch's default slope 0.01: use nn.LeakyReLU(0.2)",
         DiscriminatorSlope),
    ],
    "generative.Generator": [
        ("no tanh at the end: the generator's outputs must lie in (-1, 1) like the data",
         GeneratorNoTanh),
        ("a sigmoid at the end instead of tanh", GeneratorSigmoid),
        ("LeakyReLU in the generator: its hidden layers use ReLU", GeneratorLeaky),
    ],
    "generative.gan_step": [
        ("fakes not detached in the discriminator step: G's gradients from the "
         "discriminator's loss reach its update (detach the fakes, zero G's gradients before "
         "its backward)", gan_not_detached),
        ("the generator step reuses the discriminator step's noise: draw z a second time",
         gan_same_noise),
        ("gradients not zeroed before backward (zero_grad): they add to the ones left from "
         "before", gan_no_zero_grad),
        ("the generator's gradients are not zeroed before the generator step (no "
         "g_optimizer.zero_grad(), or d_optimizer zeroed in its place): G's gradients left from "
         "before add to its update (call g_optimizer.zero_grad() before the generator's "
         "backward)", gan_zeroes_d_twice),
        ("the saturating generator loss in gan_step: use generator_loss (non-saturating)",
         gan_saturating),
        ("the noise drawn directly in real's dtype: draw it with sample_noise (float32), then "
         "convert it with .to(real.dtype): float64 draws are other numbers",
         gan_noise_in_real_dtype),
    ],
}


def _raising():
    """Mistakes that raise on the grader's inputs (``_edited``): a student's call raising the
    same error gets the hint."""
    from ._edited import edited

    def probabilities(what):
        return (f"F.binary_cross_entropy (nn.BCELoss) takes probabilities in [0, 1], but "
                f"{what} are logits, any real number: use the loss made for logits, "
                "F.binary_cross_entropy_with_logits (stable even for logits of +-1000), "
                "rather than a sigmoid followed by binary_cross_entropy")
    one_mean = ("the real and the fake term added entry by entry before one mean: the batches "
                "may differ in size (N real examples, M fakes), so take each term's mean over "
                "its own tensor, then add the two means")
    return {
        "generative.vae_loss": [(probabilities("the decoder's outputs"), edited(
            "generative.vae_loss",
            ("reconstruction = F.binary_cross_entropy_with_logits(logits, x, ",
             "reconstruction = F.binary_cross_entropy(logits, x, ")))],
        "generative.discriminator_loss": [(probabilities("the discriminator's scores"), edited(
            "generative.discriminator_loss",
            ("bce = F.binary_cross_entropy_with_logits  # stable",
             "bce = F.binary_cross_entropy  # stable"))),
            (one_mean, edited(
                "generative.discriminator_loss",
                ("loss = (bce(logits_real, torch.ones_like(logits_real))\n"
                 "            + bce(logits_fake, torch.zeros_like(logits_fake)))",
                 "loss = (F.softplus(-logits_real) + F.softplus(logits_fake)).mean()")))],
        "generative.ls_discriminator_loss": [(one_mean, edited(
            "generative.ls_discriminator_loss",
            ("loss = 0.5 * ((scores_real - 1) ** 2).mean() + 0.5 * (scores_fake ** 2).mean()",
             "loss = 0.5 * ((scores_real - 1) ** 2 + scores_fake ** 2).mean()")))],
        "generative.generator_loss": [(probabilities("the discriminator's scores"), edited(
            "generative.generator_loss",
            ("loss = F.binary_cross_entropy_with_logits(logits_fake, torch.ones_like(",
             "loss = F.binary_cross_entropy(logits_fake, torch.ones_like(")))],
        "generative.gan_step": [(
            "sample_noise draws float32 numbers, while the networks and the data here are "
            "float64: convert the noise to the dtype of real before passing it to G (in both "
            "steps)",
            edited("generative.gan_step",
                   ("z = sample_noise(n, noise_dim, generator=generator).to(real.dtype)\n"
                    "    fakes", "z = sample_noise(n, noise_dim, generator=generator)\n    fakes"),
                   ("z = sample_noise(n, noise_dim, generator=generator).to(real.dtype)\n"
                    "    g_optimizer", "z = sample_noise(n, noise_dim, generator=generator)\n"
                    "    g_optimizer")))],
    }


for _key, _pairs in _raising().items():
    MISTAKES[_key] = MISTAKES[_key] + _pairs


def _edited_slips():
    """Slips written as one edit of the reference (``_edited``) that return a wrong value."""
    from ._edited import edited

    return {
        "generative.gan_step": [
            ("the discriminator's loss takes the real examples' scores first: "
             "d_loss_fn(D(real), D(fakes)); swapped, D learns to call the fakes real",
             edited("generative.gan_step", ("d_loss = d_loss_fn(D(real), D(fakes))",
                                            "d_loss = d_loss_fn(D(fakes), D(real))"))),
            ("loss='ls' asks for the least-squares losses: ls_discriminator_loss and "
             "ls_generator_loss; the BCE losses are only for loss='bce'",
             edited("generative.gan_step", ('    if loss == "bce":\n        d_loss_fn',
                                            '    if True:\n        d_loss_fn'))),
        ],
        "generative.vae_loss": [
            ("the KL has mu squared: KL = -0.5 * sum(1 + logvar - mu**2 - exp(logvar))",
             edited("generative.vae_loss", ("1 + logvar - mu.pow(2) - logvar.exp()",
                                            "1 + logvar - mu - logvar.exp()"))),
        ],
    }


for _key, _pairs in _edited_slips().items():
    MISTAKES[_key] = MISTAKES[_key] + _pairs
