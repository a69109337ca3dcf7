"""What composes roostr's packages into things to run: the command line's command table, the
demo, the local stack (``roostr up``) and the benchmarks that drive whole services.

It sits on top: it may import every package, and nothing imports it. ``python -m stack`` is the
``roostr`` command.
"""
