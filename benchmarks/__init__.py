"""Benchmarks of danhgia_batch (issue 9): `python -m benchmarks.run`."""
