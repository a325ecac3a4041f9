"""Tests for Home Monitor."""
