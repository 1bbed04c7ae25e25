"""`hubchaos budget`: the connection arithmetic of a profile or Kubernetes overlay, before deploy."""
