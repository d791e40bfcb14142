"""Delivery oversight: the log, channel statistics, retrying messages, letter batches."""
