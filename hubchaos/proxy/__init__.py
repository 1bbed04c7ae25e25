"""A Toxiproxy 2.x compatible fault-injecting TCP proxy on asyncio (uvloop when present).

Modules: api (routes) on http (a small HTTP/1.1 server); model (the proxies by
name, validation) of proxy (listener, links, toxics, counters); link (one
proxied connection and its toxic chains) on reactor (one epoll set for all
sockets) and pipes (splice(2) for toxic-free directions); toxic (a toxic as
the API sees it) and toxics/ (one module per toxic type, plus the registry);
errors, addresses, metrics, config, server (the foreground process), cli.
"""
