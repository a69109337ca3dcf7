"""Backtests: replay a time range of the raw topic through the live scoring code, label the
signals, simulate trading what each scorer selects and report ML, hybrid and the rules side by
side (``roostr backtest``). The pure steps (selection, trades, metrics) need no broker."""
