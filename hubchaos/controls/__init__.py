"""Chaos Toolkit controls shipped with hubchaos: safety, timeline and activity timeouts."""
