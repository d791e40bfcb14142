"""Listening to experts: what a reply means and who must see it."""
