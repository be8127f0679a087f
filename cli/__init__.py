"""The `carebridge` command: the one place that wires engine, scheduler and web together."""
