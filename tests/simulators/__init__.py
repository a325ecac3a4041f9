"""Simulated devices and cloud services, served on 127.0.0.1 for tests and development."""
