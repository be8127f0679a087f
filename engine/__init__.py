"""CareBridge engine: models, workflow runtime and services (no Flask, no APScheduler)."""
