"""Benchmarks run by script/bench."""
