"""Unit 10: networks that learn the data itself: autoencoders, VAEs and GANs, in PyTorch.

An autoencoder squeezes its input through a small code and rebuilds it (non-linear dimension
reduction; a denoising autoencoder learns to undo noise: self-supervised learning). A variational
autoencoder makes the code a distribution, so that new data can be sampled from it. A generative
adversarial network trains a generator against a discriminator in a minimax game.

Conventions every module and function here follows (the grader relies on them):

- **Forward order.** Every module registers its layers in the order it applies them, so
  ``parameters()`` lists the parameters in forward order. Every linear layer has a bias.
  Keep PyTorch's default initialisation.
- **Logits.** Networks whose output is a probability return logits (the score before the
  sigmoid); losses take logits and are computed stably for logits of any size.
- **Reproducible randomness.** Randomness comes only from an explicit ``torch.Generator`` or
  from noise passed in (``eps``), never from PyTorch's global generator.
- **Means over the batch.** Every loss is a scalar tensor averaged over the batch (N); the
  GAN losses take the mean over every entry of their score tensors (the batch, for (N, 1)).
- **dtype.** Modules are float32 by default and work in float64 after ``.double()``.

Shapes use N (batch), D (features of the data, e.g. 64 pixels), L (latent code), Z (noise).
"""

import numbers

import torch
from torch import nn
from torch.nn import functional as F  # noqa: F401 (used in solutions)


# ---------------------------------------------------------------------------------------------
# Validation (provided: keep it)
# ---------------------------------------------------------------------------------------------

def _check_int(where, what, value, minimum=1):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{where}: {what} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _check_dims(where, what, value):
    if not isinstance(value, (tuple, list)):
        raise TypeError(f"{where}: {what} must be a tuple of layer widths, got {value!r}")
    return tuple(_check_int(where, f"every entry of {what}", v) for v in value)


def _check_tensor(where, what, x, dim=None):
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{where}: {what} must be a torch.Tensor, got {type(x).__name__}")
    if not x.is_floating_point():
        raise TypeError(f"{where}: {what} must be a floating-point tensor, got {x.dtype}")
    if dim is not None and x.dim() != dim:
        raise ValueError(f"{where}: {what} must have {dim} dimensions, got shape "
                         f"{tuple(x.shape)}")
    return x


def _check_same_shape(where, names, tensors):
    shapes = [tuple(t.shape) for t in tensors]
    if len(set(shapes)) != 1:
        listed = ", ".join(f"{n} {s}" for n, s in zip(names, shapes))
        raise ValueError(f"{where}: {', '.join(names)} must have the same shape, got {listed}")


def _check_generator(where, generator):
    if not isinstance(generator, torch.Generator):
        raise TypeError(f"{where}: generator must be a torch.Generator, got "
                        f"{type(generator).__name__}")
    return generator


def _check_features(where, x, features):
    _check_tensor(where, "the input", x, 2)
    if x.shape[1] != features:
        raise ValueError(f"{where}: expected inputs of shape (N, {features}), got "
                         f"{tuple(x.shape)}")
    return x


# ---------------------------------------------------------------------------------------------
# Autoencoders
# ---------------------------------------------------------------------------------------------

class Autoencoder(nn.Module):
    """An MLP that reproduces its input through a small code: non-linear dimension reduction.

    ``encoder``: an ``nn.Sequential`` of linear layers of sizes input_dim -> *hidden_dims ->
    latent_dim, with a ReLU after every linear layer but the last (the code is not squashed).
    ``decoder``: an ``nn.Sequential`` of linear layers latent_dim -> *reversed(hidden_dims) ->
    input_dim, with a ReLU after every linear layer but the last: it returns logits (apply a
    sigmoid for pixels in [0, 1]). ``hidden_dims=()`` gives one linear layer each way.

    Input: x (N, D) with D = input_dim. ``encode(x)`` -> code (N, L); ``decode(z)`` -> logits
    (N, D); ``forward(x)`` = ``decode(encode(x))``.
    """

    def __init__(self, input_dim, latent_dim, *, hidden_dims=(128,)):
        super().__init__()
        self.input_dim = _check_int("Autoencoder", "input_dim", input_dim)
        self.latent_dim = _check_int("Autoencoder", "latent_dim", latent_dim)
        hidden_dims = _check_dims("Autoencoder", "hidden_dims", hidden_dims)
        # BEGIN SOLUTION
        def linear_relu_stack(sizes):
            stack = []
            for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
                stack.append(nn.Linear(a, b))
                if i < len(sizes) - 2:  # no activation after the last layer
                    stack.append(nn.ReLU())
            return stack

        self.encoder = nn.Sequential(*linear_relu_stack((input_dim, *hidden_dims, latent_dim)))
        self.decoder = nn.Sequential(*linear_relu_stack((latent_dim, *reversed(hidden_dims),
                                                         input_dim)))
        # END SOLUTION

    def encode(self, x):
        """The code (N, L) of inputs x (N, D)."""
        _check_features("Autoencoder.encode", x, self.input_dim)
        # BEGIN SOLUTION
        z = self.encoder(x)
        # END SOLUTION
        return z

    def decode(self, z):
        """The logits (N, D) of the reconstruction of codes z (N, L)."""
        _check_features("Autoencoder.decode", z, self.latent_dim)
        # BEGIN SOLUTION
        logits = self.decoder(z)
        # END SOLUTION
        return logits

    def forward(self, x):
        """Logits (N, D) of the reconstruction of x (N, D): decode(encode(x))."""
        # BEGIN SOLUTION
        logits = self.decode(self.encode(x))
        # END SOLUTION
        return logits


def corrupt(x, *, noise_std, generator):
    """The noisy input of a denoising autoencoder: x plus Gaussian noise, not clipped.

    Inputs: x (any shape, floating point); noise_std >= 0; generator, a ``torch.Generator``.
    Returns ``x + noise_std * torch.randn(x.shape, generator=generator, dtype=x.dtype)``, a new
    tensor of x's shape and dtype (x itself is not modified). The training target stays the
    clean x: the network learns to remove noise it never sees twice (self-supervised learning).
    """
    _check_tensor("corrupt", "x", x)
    if isinstance(noise_std, bool) or not isinstance(noise_std, numbers.Real) \
            or not noise_std >= 0:
        raise ValueError(f"corrupt: noise_std must be a number >= 0, got {noise_std!r}")
    _check_generator("corrupt", generator)
    # BEGIN SOLUTION
    noisy = x + noise_std * torch.randn(x.shape, generator=generator, dtype=x.dtype,
                                        device=x.device)
    # END SOLUTION
    return noisy


# ---------------------------------------------------------------------------------------------
# Variational autoencoder
# ---------------------------------------------------------------------------------------------

class VAE(nn.Module):
    """A variational autoencoder (Kingma and Welling, 2014) with Gaussian codes.

    Layers, in registration (= forward) order: ``encoder`` = Linear(input_dim, hidden_dim) -
    ReLU; two heads on its output, ``fc_mu`` = Linear(hidden_dim, latent_dim) registered before
    ``fc_logvar`` = Linear(hidden_dim, latent_dim); ``decoder`` = Linear(latent_dim, hidden_dim)
    - ReLU - Linear(hidden_dim, input_dim) (logits).

    ``encode(x)`` -> (mu, logvar), each (N, L): the mean and the log-variance of q(z | x).
    ``decode(z)`` -> logits (N, D). ``forward(x, eps)`` -> (logits, mu, logvar), where the code
    is ``reparameterize(mu, logvar, eps)`` with the given standard normal noise eps (N, L), in
    train and eval mode alike (to decode the mean, pass eps = 0).
    """

    def __init__(self, input_dim, latent_dim, *, hidden_dim=256):
        super().__init__()
        self.input_dim = _check_int("VAE", "input_dim", input_dim)
        self.latent_dim = _check_int("VAE", "latent_dim", latent_dim)
        hidden_dim = _check_int("VAE", "hidden_dim", hidden_dim)
        # BEGIN SOLUTION
        self.encoder = nn.Sequential(nn.Linear(input_dim, hidden_dim), nn.ReLU())
        self.fc_mu = nn.Linear(hidden_dim, latent_dim)
        self.fc_logvar = nn.Linear(hidden_dim, latent_dim)
        self.decoder = nn.Sequential(nn.Linear(latent_dim, hidden_dim), nn.ReLU(),
                                     nn.Linear(hidden_dim, input_dim))
        # END SOLUTION

    def encode(self, x):
        """(mu, logvar), each (N, L), of inputs x (N, D)."""
        _check_features("VAE.encode", x, self.input_dim)
        # BEGIN SOLUTION
        h = self.encoder(x)
        mu, logvar = self.fc_mu(h), self.fc_logvar(h)
        # END SOLUTION
        return mu, logvar

    def decode(self, z):
        """Logits (N, D) of codes z (N, L)."""
        _check_features("VAE.decode", z, self.latent_dim)
        # BEGIN SOLUTION
        logits = self.decoder(z)
        # END SOLUTION
        return logits

    def forward(self, x, eps):
        """(logits (N, D), mu (N, L), logvar (N, L)) for inputs x (N, D) and noise eps (N, L)."""
        _check_features("VAE.forward", x, self.input_dim)
        _check_features("VAE.forward", eps, self.latent_dim)
        # BEGIN SOLUTION
        mu, logvar = self.encode(x)
        logits = self.decode(reparameterize(mu, logvar, eps))
        # END SOLUTION
        return logits, mu, logvar


def reparameterize(mu, logvar, eps):
    """The reparameterization trick: a sample of N(mu, exp(logvar)) that is differentiable in
    mu and logvar.

    Inputs: mu, logvar, eps, all of the same shape (N, L); eps is standard normal noise drawn by
    the caller. Returns ``mu + exp(0.5 * logvar) * eps`` (N, L): the standard deviation is
    exp(logvar / 2), since logvar is the log of the variance.
    """
    for name, t in (("mu", mu), ("logvar", logvar), ("eps", eps)):
        _check_tensor("reparameterize", name, t)
    _check_same_shape("reparameterize", ("mu", "logvar", "eps"), (mu, logvar, eps))
    # BEGIN SOLUTION
    z = mu + torch.exp(0.5 * logvar) * eps
    # END SOLUTION
    return z


def vae_loss(logits, x, mu, logvar):
    """The negative evidence lower bound of a VAE, averaged over the batch.

    Inputs: logits (N, D) of the decoder; x (N, D), the targets in [0, 1]; mu and logvar (N, L).
    Returns (loss, reconstruction, kl), three scalar tensors:

    - reconstruction = (1/N) sum_i sum_d BCE(logits[i, d], x[i, d]), binary cross entropy with
      logits (``x * softplus(-l) + (1 - x) * softplus(l)``), summed over features, stable for
      logits of any size;
    - kl = (1/N) sum_i -0.5 * sum_j (1 + logvar[i, j] - mu[i, j]^2 - exp(logvar[i, j])), the
      KL divergence from q(z | x) = N(mu, exp(logvar)) to the prior N(0, I), summed over latent
      dimensions;
    - loss = reconstruction + kl.
    """
    for name, t in (("logits", logits), ("x", x), ("mu", mu), ("logvar", logvar)):
        _check_tensor("vae_loss", name, t, 2)
    _check_same_shape("vae_loss", ("logits", "x"), (logits, x))
    _check_same_shape("vae_loss", ("mu", "logvar"), (mu, logvar))
    if len(mu) != len(x):
        raise ValueError(f"vae_loss: {len(x)} inputs but {len(mu)} codes")
    if len(x) == 0:
        raise ValueError(f"vae_loss: the batch is empty (x{tuple(x.shape)}), and a mean over no "
                         "examples is undefined")
    # targets outside [0, 1] (tanh-scaled pixels, or the logits passed as x) give a finite
    # number that is no cross entropy
    if x.numel() and not (float(x.min()) >= 0 and float(x.max()) <= 1):
        raise ValueError(f"vae_loss: the targets x must lie in [0, 1] (pixels scaled as "
                         f"load_digits_generative(scale='unit')), got values from "
                         f"{float(x.min()):.4g} to {float(x.max()):.4g}; is the order (logits, "
                         f"x, mu, logvar)?")
    # BEGIN SOLUTION
    n = x.shape[0]
    reconstruction = F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / n
    kl = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp()) / n
    loss = reconstruction + kl
    # END SOLUTION
    return loss, reconstruction, kl


# ---------------------------------------------------------------------------------------------
# Generative adversarial networks
# ---------------------------------------------------------------------------------------------

def sample_noise(batch_size, dim, *, generator):
    """The generator's input: uniform noise in [-1, 1).

    Returns ``torch.rand(batch_size, dim, generator=generator) * 2 - 1``, float32, of shape
    (batch_size, dim), drawn from ``generator`` (a ``torch.Generator``) only.
    """
    batch_size = _check_int("sample_noise", "batch_size", batch_size)
    dim = _check_int("sample_noise", "dim", dim)
    _check_generator("sample_noise", generator)
    # BEGIN SOLUTION
    z = torch.rand(batch_size, dim, generator=generator) * 2 - 1
    # END SOLUTION
    return z


class Discriminator(nn.Module):
    """The discriminator of a GAN: an MLP that scores how real each example looks.

    ``net`` = an ``nn.Sequential``: Linear(input_dim, hidden_dims[0]) - LeakyReLU(0.2) - ... -
    Linear(hidden_dims[-1], 1), a ``nn.LeakyReLU(0.2)`` after every linear layer but the last.
    Input x (N, D). Returns logits (N, 1): D(x) = sigmoid(logits) is the probability that x is
    real.
    """

    def __init__(self, input_dim, *, hidden_dims=(256, 256)):
        super().__init__()
        self.input_dim = _check_int("Discriminator", "input_dim", input_dim)
        hidden_dims = _check_dims("Discriminator", "hidden_dims", hidden_dims)
        # BEGIN SOLUTION
        sizes = (input_dim, *hidden_dims, 1)
        layers = []
        for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers.append(nn.Linear(a, b))
            if i < len(sizes) - 2:
                layers.append(nn.LeakyReLU(0.2))
        self.net = nn.Sequential(*layers)
        # END SOLUTION

    def forward(self, x):
        """Logits (N, 1) of inputs x (N, D)."""
        _check_features("Discriminator", x, self.input_dim)
        # BEGIN SOLUTION
        logits = self.net(x)
        # END SOLUTION
        return logits


class Generator(nn.Module):
    """The generator of a GAN: an MLP from noise to data.

    ``net`` = an ``nn.Sequential``: Linear(noise_dim, hidden_dims[0]) - ReLU - ... -
    Linear(hidden_dims[-1], output_dim) - Tanh, a ReLU after every linear layer but the last,
    and a tanh at the end, so that outputs lie in (-1, 1) like the data.
    Input z (N, Z). Returns samples (N, D) with D = output_dim.
    """

    def __init__(self, noise_dim, output_dim, *, hidden_dims=(256, 256)):
        super().__init__()
        self.noise_dim = _check_int("Generator", "noise_dim", noise_dim)
        self.output_dim = _check_int("Generator", "output_dim", output_dim)
        hidden_dims = _check_dims("Generator", "hidden_dims", hidden_dims)
        # BEGIN SOLUTION
        sizes = (noise_dim, *hidden_dims, output_dim)
        layers = []
        for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers.append(nn.Linear(a, b))
            layers.append(nn.ReLU() if i < len(sizes) - 2 else nn.Tanh())
        self.net = nn.Sequential(*layers)
        # END SOLUTION

    def forward(self, z):
        """Samples (N, D) made from noise z (N, Z)."""
        _check_features("Generator", z, self.noise_dim)
        # BEGIN SOLUTION
        samples = self.net(z)
        # END SOLUTION
        return samples


def _check_logits(where, *named):
    for name, t in named:
        _check_tensor(where, name, t)
        if t.numel() == 0:
            raise ValueError(f"{where}: {name} is empty (shape {tuple(t.shape)})")


def discriminator_loss(logits_real, logits_fake):
    """The discriminator's binary cross entropy: real examples labelled 1, fakes labelled 0.

    Inputs: logits_real (N, 1) (or any shape) of D on real data; logits_fake (M, 1) of D on
    fakes. Returns the scalar ``mean(-log sigmoid(logits_real)) + mean(-log(1 -
    sigmoid(logits_fake)))``, the two means (each over every entry of its tensor) added,
    computed stably for logits of any size (-log sigmoid(s) = softplus(-s) and
    -log(1 - sigmoid(s)) = softplus(s)).
    """
    _check_logits("discriminator_loss", ("logits_real", logits_real),
                  ("logits_fake", logits_fake))
    # BEGIN SOLUTION
    bce = F.binary_cross_entropy_with_logits  # stable: max(s, 0) - s * y + log1p(exp(-|s|))
    loss = (bce(logits_real, torch.ones_like(logits_real))
            + bce(logits_fake, torch.zeros_like(logits_fake)))
    # END SOLUTION
    return loss


def generator_loss(logits_fake):
    """The generator's non-saturating loss: ``mean(-log D(G(z)))`` = mean(-log sigmoid(s)).

    Input: logits_fake (N, 1) (or any shape) of D on fakes. Returns a scalar (the mean over
    every entry), stable for logits of any size. Its gradient is large when D confidently
    rejects the fakes (early in training).
    """
    _check_logits("generator_loss", ("logits_fake", logits_fake))
    # BEGIN SOLUTION
    loss = F.binary_cross_entropy_with_logits(logits_fake, torch.ones_like(logits_fake))
    # END SOLUTION
    return loss


def minimax_generator_loss(logits_fake):
    """The generator's saturating loss of the original minimax game: ``mean(log(1 - D(G(z))))``.

    Input: logits_fake (N, 1) (or any shape). Returns the scalar mean(log(1 - sigmoid(s))) =
    mean(-softplus(s)) (the mean over every entry), stable for logits of any size. The
    generator minimises it; its gradient vanishes when D confidently rejects the fakes.
    """
    _check_logits("minimax_generator_loss", ("logits_fake", logits_fake))
    # BEGIN SOLUTION
    loss = -F.binary_cross_entropy_with_logits(logits_fake, torch.zeros_like(logits_fake))
    # END SOLUTION
    return loss


def ls_discriminator_loss(scores_real, scores_fake):
    """The least-squares GAN discriminator loss (Mao et al., 2017), on raw scores.

    Inputs: scores_real (N, 1) and scores_fake (M, 1) (or any shapes), the discriminator's
    outputs (no sigmoid). Returns the scalar ``0.5 * mean((scores_real - 1)^2) + 0.5 *
    mean(scores_fake^2)``, each mean over every entry of its tensor.
    """
    _check_logits("ls_discriminator_loss", ("scores_real", scores_real),
                  ("scores_fake", scores_fake))
    # BEGIN SOLUTION
    loss = 0.5 * ((scores_real - 1) ** 2).mean() + 0.5 * (scores_fake ** 2).mean()
    # END SOLUTION
    return loss


def ls_generator_loss(scores_fake):
    """The least-squares GAN generator loss: ``0.5 * mean((scores_fake - 1)^2)``.

    Input: scores_fake (N, 1) (or any shape), the discriminator's raw scores of fakes. Returns
    a scalar, the mean over every entry of the tensor.
    """
    _check_logits("ls_generator_loss", ("scores_fake", scores_fake))
    # BEGIN SOLUTION
    loss = 0.5 * ((scores_fake - 1) ** 2).mean()
    # END SOLUTION
    return loss


GAN_LOSSES = ("bce", "ls")


def gan_step(D, G, d_optimizer, g_optimizer, real, *, noise_dim, generator, loss="bce"):
    """One training step of a GAN: one discriminator update, then one generator update.

    Inputs: D and G, the discriminator and generator modules; d_optimizer and g_optimizer,
    optimizers of D's and of G's parameters; real (N, D) real examples; noise_dim (Z);
    generator, the ``torch.Generator`` all noise comes from; loss, "bce"
    (``discriminator_loss`` and the non-saturating ``generator_loss``) or "ls"
    (``ls_discriminator_loss`` and ``ls_generator_loss``).

    1. Discriminator: draw ``z = sample_noise(N, noise_dim, generator=generator)``, converted to
       real's dtype; fakes = G(z) **detached** (the discriminator's update must not change or
       send gradients to G); zero D's gradients, compute the discriminator loss on D(real) and
       D(fakes), backpropagate, ``d_optimizer.step()``.
    2. Generator: a second draw of z (the same way); zero G's gradients, compute the generator
       loss on D(G(z)), backpropagate, ``g_optimizer.step()`` (D is not updated here).

    Returns (d_loss, g_loss) as Python floats: the two losses computed in the steps (before
    each update).
    """
    for name, module in (("D", D), ("G", G)):
        if not isinstance(module, nn.Module):
            raise TypeError(f"gan_step: {name} must be an nn.Module, got {type(module).__name__}")
    _check_tensor("gan_step", "real", real)
    noise_dim = _check_int("gan_step", "noise_dim", noise_dim)
    _check_generator("gan_step", generator)
    if loss not in GAN_LOSSES:
        raise ValueError(f"gan_step: loss must be one of {GAN_LOSSES}, got {loss!r}")
    # BEGIN SOLUTION
    if loss == "bce":
        d_loss_fn, g_loss_fn = discriminator_loss, generator_loss
    else:
        d_loss_fn, g_loss_fn = ls_discriminator_loss, ls_generator_loss
    n = real.shape[0]

    z = sample_noise(n, noise_dim, generator=generator).to(real.dtype)
    fakes = G(z).detach()  # no gradient reaches G from the discriminator's loss
    d_optimizer.zero_grad()
    d_loss = d_loss_fn(D(real), D(fakes))
    d_loss.backward()
    d_optimizer.step()

    z = sample_noise(n, noise_dim, generator=generator).to(real.dtype)
    g_optimizer.zero_grad()
    g_loss = g_loss_fn(D(G(z)))
    g_loss.backward()  # fills D's gradients too, but D is not stepped
    g_optimizer.step()
    # END SOLUTION
    return d_loss.item(), g_loss.item()
