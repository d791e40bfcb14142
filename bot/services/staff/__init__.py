"""Staff accounts, signing in, and who may see which record."""
