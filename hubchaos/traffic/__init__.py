"""Traffic generators, used by the flood actions and the HTTP probes alike.

Modules: loop (one load in its own event loop, bounded in time); pacing
(start N connections at R per second, hold, stop early); held_connections
(the loop both connection floods share: connect, hold, close, count);
db_logins (the faithful PostgreSQL login flood) with db_refusals (what a
refused login means); tcp_connections (raw TCP connects held idle);
http_load (the HTTP route mix and its keep-alive workers) on http_client (a
lean HTTP/1.1 connection) and http_tally (what the load measured); stats
(latency percentiles). Which floods are running, and stopping them, is the actions'
business (`hubchaos.actions._flood_registry`); nothing here imports actions
or probes.
"""
