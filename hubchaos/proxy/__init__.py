"""A Toxiproxy 2.x compatible fault-injecting TCP proxy on asyncio (uvloop when present).

Modules: api (routes) on http (a small HTTP/1.1 server with per-client limits);
model (the proxies by name, validation, loops refused via loops) of proxy
(listener, links, toxics, counters); link (one proxied connection's
lifecycle) of two endpoints (endpoint: reading and the toxic chain of one
direction, on socket_side: watching, flow control, the write queue), on
reactor (one epoll set for all sockets) and pipes (splice(2) for toxic-free
directions); toxic (a toxic as the API sees it) and toxics/ (one module per
toxic type, plus the registry); errors, addresses, metrics, config, server
(the foreground process), cli.

Imports point one way (cli -> server -> api/http -> model -> proxy -> link ->
endpoint -> socket_side), and nothing here imports the runner: the runner
uses the proxy, never the reverse.
"""
