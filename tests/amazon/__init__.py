"""Tests of the Amazon air-quality monitor source."""
