"""CIFAR-10 with a spurious coloured border (shortcut strength ρ) and its stand-in.

``python -m nht_monitor.demos.cifar10 --data-root DIR`` reads the standard ``cifar-10-batches-py``
layout under ``DIR``; ``--synthetic`` uses the procedurally drawn STAND-IN instead.
"""
