"""Toxics: one module per type, collected by name in `registry`."""
