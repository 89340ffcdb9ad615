"""Hidden cases of unit 04, normalization (not in the student release)."""


def batchnorm_train_cases(bn_case):
    return [
        bn_case("train, N=16, D=7, momentum=0.99", 101, (16, 7), momentum=0.99),
        bn_case("train, N=3, D=5, eps=0.1", 102, (3, 5), eps=0.1),
        bn_case("train, N=4, D=2, momentum=1 (the state does not move)", 103, (4, 2),
                momentum=1.0),
        # square, with a dx clearly non-zero (at N = 2, dx is 0): a dx transposed only when
        # square fails here
        bn_case("train, N=3, D=3 (square)", 106, (3, 3)),
    ]


def batchnorm_test_cases(bn_case):
    return [bn_case("test mode, N=7, D=6, eps=1e-3", 104, (7, 6), train=False, eps=1e-3)]


def spatial_train_cases(bn_case):
    return [
        bn_case("train, x (4, 2, 3, 2)", 121, (4, 2, 3, 2)),
        bn_case("train, x (2, 5, 1, 1) (1x1 images: plain batch norm)", 122, (2, 5, 1, 1),
                momentum=0.2, eps=1e-2),
    ]


def spatial_test_cases(bn_case):
    return [bn_case("test mode, N=1, x (1, 2, 2, 3)", 123, (1, 2, 2, 3), train=False)]


def layernorm_cases(ln_case):
    return [ln_case("x (8, 3)", 131, (8, 3)), ln_case("x (2, 12), eps=0.1", 132, (2, 12),
                                                      eps=0.1)]


def groupnorm_cases(image_case):
    return [
        image_case("x (2, 8, 2, 3), groups=4", 141, (2, 8, 2, 3), groups=4),
        image_case("x (3, 6, 1, 4), groups=2, eps=1e-2", 142, (3, 6, 1, 4), groups=2, eps=1e-2),
    ]


def instancenorm_cases(image_case):
    return [image_case("x (4, 3, 3, 2)", 151, (4, 3, 3, 2)),
            image_case("x (1, 5, 2, 2)", 152, (1, 5, 2, 2))]
