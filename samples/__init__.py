"""Runnable training scripts on ``engine``, each teaching one thing about backpropagation.

Every sample is a plain script (``python samples/NAME.py``, ``--steps N``, ``--seed S``)
with a ``main(argv=None)`` function; :mod:`samples.catalog` lists them with a one-line
description each. :mod:`samples.digits` and :mod:`samples.mnist` load their data.
"""
