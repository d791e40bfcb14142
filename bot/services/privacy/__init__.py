"""Privacy: retention, audit search, subject access and erasure."""
