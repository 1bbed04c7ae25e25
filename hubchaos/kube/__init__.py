"""Kubernetes manifests of the hub: a strict kustomize renderer and what reads them."""
