"""`hubchaos up --env kubernetes`: the hub deployed to any cluster a kubeconfig names.

connection (kubeconfig, context, reachability), manifests (the overlay rendered by
hubchaos.kube, server-side applied, deleted), rollout (waiting with progress),
forwards (loopback port-forwards), stack (the StackDriver).
"""
