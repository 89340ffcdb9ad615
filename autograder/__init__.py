"""The course's grader: a judge that never shares a process with student code.

``python -m autograder grade`` grades a submission; ``check("linear.svm_loss_naive")`` checks one
function from a notebook.
"""
