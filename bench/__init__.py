"""CareBridge benchmarks: `python -m bench.run --quick|--full` (see docs/performance.md)."""
