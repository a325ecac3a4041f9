"""Tests of the Hue source."""
