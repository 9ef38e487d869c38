"""What the job adds to every mirror, named once for the job and for the readers that run without Spark (python/lake):
the bookkeeping columns after the source's columns, and the table properties it records."""

# the event's place in commit order (glue.decode), its op and its commit time
COMMIT_LSN, LSN, OP, OP_TS = "_commit_lsn", "_lsn", "_op", "_op_ts"
BOOKKEEPING = ((COMMIT_LSN, "bigint"), (LSN, "bigint"), (OP, "string"), (OP_TS, "timestamp"))
BOOKKEEPING_NAMES = tuple(name for name, _ in BOOKKEEPING)
# the primary key's columns, in key order, as the job created the table with them
KEY_PROPERTY = "cdc.key"
# a column being rewritten to a new type (glue.schema)
RETYPE_PREFIX = "__retype__"
# the delete markers of every mirror (glue.markers)
MARKERS_TABLE = "cdc_deletes"
