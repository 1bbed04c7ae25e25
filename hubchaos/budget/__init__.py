"""`hubchaos budget`: a profile's or Kubernetes overlay's connection arithmetic."""
