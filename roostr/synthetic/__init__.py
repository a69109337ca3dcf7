"""Synthetic data, in one place, for the demo, the benches, the tests and the learning benchmark.

Each module is one variant, made for what its users need; each is a pure function of its seed:

- ``stream``: a steady stream of ~1 KB RawSignal documents with every context block filled and
  no prices (the scoring, restore and board benches; consumer tests);
- ``world``: an event-time market, signals partly informative and labelled from price paths by
  the joiner's own rule (``roostr.labels``), in variants ``base`` / ``sparse`` / ``callers``
  (the demo, the learning and backtest benches, backtest and retrain tests);
- ``sample``: the bundled sample files in ``roostr/data`` (``python -m roostr.synthetic.sample``
  regenerates them byte for byte).

It lives in the core because the layers above all read it (``stack``, ``benchmarks``, tests) and
none of them may import another. Nothing in the product imports it, and the features never do:
a world's formula must not leak into what a model sees (import-linter forbids it).

Not here, on purpose: ``training.synthetic`` is the bootstrap prior's training set, a product
component whose labels are drawn from the green flags (no prices; changing it changes the v0.1
model), and ``tests/label_world.py`` is a label-test oracle that must not share the code it
checks.
"""
