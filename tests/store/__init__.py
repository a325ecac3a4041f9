"""Tests of the history store."""
