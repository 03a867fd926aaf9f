"""Bundled demos of nht-monitor: one package per domain.

Run as ``nht-monitor demo NAME ...`` after install or ``python -m nht_monitor.demos.NAME`` from a
checkout. ``modular_arithmetic`` needs only torch; the image demos need the ``[demos]``
extra (torchvision, pillow, pandas, wilds).
"""
