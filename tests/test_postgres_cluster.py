import psycopg

from hubchaos.stack.local.postgres import PostgresCluster


def test_cluster_accepts_logins_and_honours_max_connections(
    postgres_cluster: PostgresCluster,
) -> None:
    with psycopg.connect(postgres_cluster.dsn()) as conn:
        limit = conn.execute("SHOW max_connections").fetchone()
        assert limit == ("60",)
        listen = conn.execute("SHOW listen_addresses").fetchone()
        assert listen == ("127.0.0.1",)
