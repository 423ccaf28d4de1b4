"""Benchmarks behind the ``floor-bench`` command; one module per benchmark name."""
