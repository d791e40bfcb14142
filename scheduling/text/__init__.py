"""Turning a message and its person into the words a channel carries."""
