"""The course's grader: a judge that never shares a process with student code.

``python -m autograder grade`` grades a submission; ``check("linear.svm_loss_naive")`` checks one
function from a notebook.
"""


def check(name, **kwargs):
    """Check a function ('linear.svm_loss_naive'), module or unit ('01') on the public tests."""
    from .notebook_check import check as _check

    return _check(name, **kwargs)
