"""Measurement, off the serving path: nothing in answering or the web page imports it.

- `evaluation`: `python -m bot eval`, scores on the eval sets;
- `bench`, `bench_start`, `bench_scale`: `python -m bot bench`, speed side by side;
- `timing`: interleaved timers, medians, child processes with their peak memory;
- `synthetic`: article-like synthetic sections for the scaling run.
"""
