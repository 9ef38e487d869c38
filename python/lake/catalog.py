"""The local lake's Iceberg catalog through pyiceberg: the JDBC catalog's tables in PostgreSQL that the job commits
to (pyiceberg's SQL catalog reads the same two tables), and the object store the job writes to."""

from functools import cache
from urllib.parse import quote

from pyiceberg.catalog.sql import SqlCatalog
from pyiceberg.table import Table

from stack.settings import setting

# the name the job gives its catalog (glue.options.JobOptions.catalog_name): the catalog table's rows carry it
CATALOG_NAME = "lake"


@cache  # one engine and its connection pool per process, however many times the lake is read
def local_catalog() -> SqlCatalog:
    user, password = quote(setting("PG_APP_USER"), safe=""), quote(setting("PG_APP_PASSWORD"), safe="")
    # libpq's options put the catalog's schema first on the search path, as the job's ?currentSchema= does
    search_path = quote(f"-csearch_path={setting('LAKE_CATALOG_SCHEMA')}", safe="")
    uri = (f"postgresql+psycopg2://{user}:{password}@{setting('PG_HOST')}:{setting('PG_PORT')}/"
           f"{setting('PG_DATABASE')}?options={search_path}&connect_timeout=5")
    return SqlCatalog(CATALOG_NAME, **{
        "uri": uri,
        "init_catalog_tables": "false",  # the job creates them; a reader never writes
        # the pool outlives a PostgreSQL restart in a long process (verify, the tests): test a connection first
        "pool_pre_ping": "true",
        "s3.endpoint": f"http://{setting('OBJECT_STORE_HOST')}:{setting('OBJECT_STORE_PORT')}",
        "s3.access-key-id": setting("OBJECT_STORE_ACCESS_KEY"),
        "s3.secret-access-key": setting("OBJECT_STORE_SECRET_KEY"),
        "s3.region": setting("AWS_REGION"),
        "s3.force-virtual-addressing": "false",
    })


def lake_tables(catalog: SqlCatalog) -> dict[str, Table]:
    """{name: table} of the lake's namespace (LAKE_DATABASE)."""
    namespace = setting("LAKE_DATABASE")
    if (namespace,) not in catalog.list_namespaces():
        return {}
    return {name: catalog.load_table((namespace, name)) for _, name in catalog.list_tables(namespace)}
