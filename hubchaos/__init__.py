"""hubchaos: chaos experiments against the learning-hub stack."""

__version__ = "0.1.0"
