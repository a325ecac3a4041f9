"""Simulated devices and cloud endpoints for tests, benchmarks and script/develop."""
