"""``roostr monitor``: model quality, drift and consumer health over the topics, with alerts."""
