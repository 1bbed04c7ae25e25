"""Where a target really leads, and whether a run may reach it.

- `hosts`: the blast-radius rule for one host (loopback, the configuration
  key `hubchaos_allowed_hosts`, every address a name resolves to);
- `libpq`: the hosts a PostgreSQL DSN really connects to (PGHOST, PGHOSTADDR,
  service files), as libpq itself computes them.

A leaf of the runner: the activities' guard (hubchaos.activity.blast_radius) and the
experiment check (hubchaos.blast_radius) both build on it; it imports neither.
"""
