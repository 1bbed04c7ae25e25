"""Drivers that start, observe and stop the hub stack (system under test)."""
