"""coursework: the package you implement during the course.

Each module is one topic of the course and is taught by the notebook of the same name:

========== ============================= ===============================
unit       module(s)                     notebook
========== ============================= ===============================
01         linear                        01_linear_classifier.ipynb
02         layers, losses, gradcheck,    02_mlp_backprop.ipynb
           mlp, training
03         conv, cnn                     03_cnn_layers.ipynb
06         architectures (PyTorch)       06_cnn_architectures.ipynb
10         generative (PyTorch)          10_autoencoders_gans.ipynb
========== ============================= ===============================

``backend``, ``data`` and ``training`` are provided helpers: you do not edit them. Your code may
import NumPy and the Python standard library, nothing else: the grader runs it without other
packages (SciPy, PyTorch...), since the point of these units is to write it yourself. From unit
06 on, networks are built with PyTorch (``architectures``), and the grader lets those modules
import it. Functions you implement raise
``NotImplementedError`` until you do; check them from a notebook with
``from autograder import check; check("linear.svm_loss_naive")`` or grade them all with
``make grade``.
"""
