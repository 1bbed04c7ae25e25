"""A Toxiproxy 2.x compatible fault-injecting TCP proxy on asyncio (uvloop when present).

Modules: api (routes) on http (a small HTTP/1.1 server); model (the proxies by
name) of proxy (listener, links, toxics); link (one proxied connection and its
toxic chains); toxics/ (one module per toxic type, plus the registry);
metrics, config, server (the foreground process), cli.
"""
