"""Experts: their profile, details, contact changes, CSV, Telegram links, pastoral contact."""
