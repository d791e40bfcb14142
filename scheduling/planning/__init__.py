"""Writing the plan: messages in the outbox for invitations and pastoral contact."""
