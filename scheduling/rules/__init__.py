"""Pure rules: plans, safe windows, routing, the frequency cap, reading replies. No I/O."""
