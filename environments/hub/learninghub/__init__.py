"""My Learning Hub: student dashboard and classroom chat over a bounded PostgreSQL pool."""

__version__ = "0.1.0"
