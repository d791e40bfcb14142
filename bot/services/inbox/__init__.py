"""What waits for a person: tasks, and replies to acknowledge."""
