"""Hidden cases of unit 10, ``generative`` (not in the student release).

Each function takes the ``Case`` class (and the public cases' input builder) and returns extra
cases in the form of the public ones.
"""


def pair_cases(Case, logits_case):
    return [Case("hidden: 9 real, 2 fake, logits around +-12", logits_case(201, 9, 2, scale=12.0)),
            Case("hidden: flat logits with +-1000", logits_case(202, 6, 3, flat=True,
                                                                special=(-1000.0, 1000.0)))]


def single_cases(Case, logits_case):
    return [Case("hidden: N=9, logits around +-30", logits_case(211, 9, scale=30.0)[:1]),
            Case("hidden: all -1000", logits_case(212, 3, special=(-1000.0,) * 3)[:1])]


def reparameterize_cases(Case, gaussian_case):
    return [Case("hidden: N=7, L=5, logvar around -1", gaussian_case(221, 7, 5,
                                                                  logvar_offset=-1.0)),
            # a trained VAE's confident codes have logvar of -8 and below: a logvar clamped
            # to [-5, 5] "for stability" gives another z here
            Case("hidden: N=4, L=3, tiny variances (logvar around -8)",
                 gaussian_case(222, 4, 3, logvar_offset=-8.0))]


def vae_loss_cases(Case, vae_loss_case):
    return [Case("hidden: N=6, D=3, L=4, binary targets, +-1000",
                 vae_loss_case(231, 6, 3, 4, binary=True, huge=True)),
            Case("hidden: N=3, D=4, L=5, tiny variances (logvar around -8)",
                 vae_loss_case(232, 3, 4, 5, logvar_offset=-8.0))]


def corrupt_cases(Case, rng):
    return [Case("hidden: x (1, 9), noise_std 0.1", (rng.uniform(-1, 1, (1, 9)), 0.1, 241))]


def noise_cases(Case):
    return [Case("hidden: batch 33, dim 2", (33, 2, 251))]


def autoencoder_cases(Case):
    return [Case("hidden: no hidden layer (linear), N=3", ((6, 2), {"hidden_dims": ()}, 3))]


def vae_cases(Case):
    return [Case("hidden: L=1, N=5", ((4, 1), {"hidden_dim": 3}, 5))]


def discriminator_cases(Case):
    return [Case("hidden: three hidden layers", ((4,), {"hidden_dims": (3, 5, 2)}, (3, 4)))]


def generator_cases(Case):
    return [Case("hidden: no hidden layer", ((3, 4), {"hidden_dims": ()}, (2, 3)))]


def gan_cases(Case, gan_case):
    return [Case("hidden: loss='ls', N=7", gan_case(261, 7, 2, 2, 3, "ls"))]
