"""Engagements: their lifecycle, plans, attendance and cancellations."""
