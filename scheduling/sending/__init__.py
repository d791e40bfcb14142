"""The outbox engine: claiming due messages, deciding, sending, recording what happened."""
