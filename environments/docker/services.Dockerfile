# Offline stand-in for the official PostgreSQL, Prometheus, Alertmanager and
# postgres-exporter images, built from Debian packages on the local base
# (hubchaos/debian:bookworm, see build-offline.sh) when no container registry
# is reachable. One image, four commands: compose.offline.yaml picks the
# entrypoint per service.
#
# It keeps the official images' interfaces the compose file relies on:
# /bin/prometheus, /bin/alertmanager, /bin/postgres_exporter, wget for the
# health checks, and PostgreSQL's docker-entrypoint.sh with POSTGRES_USER,
# POSTGRES_PASSWORD, POSTGRES_DB and `postgres -c ...` arguments.
ARG BASE_IMAGE=hubchaos/debian:bookworm
FROM ${BASE_IMAGE}

RUN set -eu; \
    apt-get update -qq; \
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        postgresql-15 prometheus prometheus-alertmanager prometheus-postgres-exporter \
        wget ca-certificates >/dev/null; \
    rm -rf /var/lib/apt/lists/*; \
    ln -sf /usr/bin/prometheus-alertmanager /usr/local/bin/alertmanager; \
    ln -sf /usr/bin/prometheus-postgres-exporter /usr/local/bin/postgres_exporter; \
    ln -sf /usr/bin/prometheus /usr/local/bin/prometheus; \
    mkdir -p /var/lib/postgresql/data /var/run/postgresql; \
    chown -R postgres:postgres /var/lib/postgresql /var/run/postgresql

COPY postgres-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
RUN chmod 0755 /usr/local/bin/docker-entrypoint.sh

ENV PATH=/usr/lib/postgresql/15/bin:$PATH \
    PGDATA=/var/lib/postgresql/data
