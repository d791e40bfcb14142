"""Work handed to people: tasks, hand-offs, follow-ups, staff alerts, reply escalation."""
