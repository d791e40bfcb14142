"""Paying people for their time and costs: claims and choices, finance files, statements."""
