"""hubchaos.probes: Chaos Toolkit probes that measure the hub stack."""
