"""roostr core: what the streaming consumer, training and backtests share.

Contracts, settings, Kafka clients, features, rules, the model wrapper and its registry live
here once, so live scoring and training can never compute a feature differently.
"""
