"""The course's grader: a judge that never shares a process with student code.

``python -m autograder grade`` grades a submission; ``check("linear.svm_loss_naive")`` checks one
function from a notebook; ``%load_ext autograder`` in a notebook turns a call of a function that is
not written yet into one line naming it and its file.
"""


def check(*names, **kwargs):
    """Check functions ('linear.svm_loss_naive'), modules or units ('01') on the public tests."""
    from .notebook_check import check as _check

    return _check(*names, **kwargs)


def load_ipython_extension(ipython):
    """``%load_ext autograder``: see ``autograder.notebook_check.load_ipython_extension``."""
    from .notebook_check import load_ipython_extension as _load

    _load(ipython)
