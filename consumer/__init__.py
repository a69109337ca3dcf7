"""The scoring service (``roostr consume``) and the trading bots' reader of its output.

Entry points: ``consumer.service.ScoringService`` and ``consumer.bot_reader.ScoredSignalReader``.
Nothing is imported here, so ``roostr --help`` does not load Kafka or XGBoost.
"""
