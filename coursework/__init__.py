"""coursework: the package you implement during the course.

Each module is one topic of the course, taught by the notebook of its unit (``notebooks/``; the
table of units and their modules is in the README).

``backend``, ``checks`` (argument checks), ``data``, ``training``, ``text`` and ``bptt`` are
provided helpers, and so are ``torch_training`` and ``pretrained`` (unit 06) and
``generative_data`` (unit 10): you do not edit them. Your code may import NumPy and the
Python standard library, nothing else: the grader runs it without other packages (SciPy,
PyTorch...), since the point of these units is to write it yourself; from unit 06 on, networks
are built with PyTorch (``architectures``, ``generative``), and the grader lets those units'
modules import it. Functions you implement raise ``NotImplementedError`` until you do; check
them from a notebook with ``from autograder import check; check("linear.svm_loss_naive")`` or
grade them all with ``make grade``.
"""
