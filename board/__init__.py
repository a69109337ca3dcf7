"""The signal board (``roostr board``): a web page for the trading team over the topics.

A top-level package beside ``consumer`` and ``training`` because it composes both (the group's
lag, the monitor's evaluation, the registry actions) and neither should import a web framework.
"""
