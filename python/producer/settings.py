"""Where the producer connects: PG_* settings from the environment, or a DSN given on the command line."""

from collections.abc import Mapping

from psycopg2.extensions import make_dsn, parse_dsn

DEFAULTS = {
    "PG_HOST": "127.0.0.1",
    "PG_PORT": "15432",
    "PG_DATABASE": "shop",
    "PG_APP_USER": "app",
    "PG_SCHEMA": "shop",
}


def setting(env: Mapping[str, str], name: str) -> str:
    """A setting from the environment, its default when unset or empty."""
    return env.get(name) or DEFAULTS[name]


def dsn_from_env(env: Mapping[str, str]) -> str:
    """The app user's libpq DSN from the PG_* settings."""
    params = {
        "host": setting(env, "PG_HOST"),
        "port": setting(env, "PG_PORT"),
        "dbname": setting(env, "PG_DATABASE"),
        "user": setting(env, "PG_APP_USER"),
    }
    # Without a password libpq falls back to PGPASSWORD or ~/.pgpass, so only pass one that is set.
    if env.get("PG_APP_PASSWORD"):
        params["password"] = env["PG_APP_PASSWORD"]
    return make_dsn(**params)


def describe(dsn: str) -> str:
    """`host:port/dbname as user` for messages; never the password."""
    params = parse_dsn(dsn)
    host = params.get("host", "localhost")
    port = params.get("port", "5432")
    return f"{host}:{port}/{params.get('dbname', '?')} as {params.get('user', '?')}"
