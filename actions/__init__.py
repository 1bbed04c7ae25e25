"""hubchaos.actions: Chaos Toolkit actions that inject faults into the hub stack."""
