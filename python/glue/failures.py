"""Which failures belong to one table and which to the job: a table's are isolated (glue.job pauses that mirror), the
job's (the object store, the catalog or Kafka not answering) fail the micro-batch, which Spark replays once the job
restarts, since pausing every table for them would only hide the cause."""

from __future__ import annotations

# Java exceptions (or their superclasses) that mean "could not reach something", anywhere in the cause chain
TRANSIENT_CLASSES = (
    "java.io.IOException",
    "java.io.UncheckedIOException",
    "java.sql.SQLException",
    "org.apache.iceberg.jdbc.UncheckedSQLException",
    "org.apache.iceberg.exceptions.RuntimeIOException",
    "org.apache.iceberg.exceptions.CommitStateUnknownException",
    "software.amazon.awssdk.core.exception.SdkClientException",
    "org.apache.kafka.common.errors.TimeoutException",
)


def _java_throwable(error: BaseException):
    # Py4JJavaError keeps it as java_exception; PySpark's own exceptions (AnalysisException, ...) as _origin
    return getattr(error, "java_exception", None) or getattr(error, "_origin", None)


def java_classes(throwable) -> list[str]:
    """Class names of a Java throwable, its superclasses and its causes'."""
    names, seen = [], 0
    while throwable is not None and seen < 20:
        cls = throwable.getClass()
        while cls is not None:
            names.append(cls.getName())
            cls = cls.getSuperclass()
        throwable, seen = throwable.getCause(), seen + 1
    return names


def _has_class(error: BaseException, wanted: tuple[str, ...], unreadable: bool) -> bool:
    throwable = _java_throwable(error)
    if throwable is None:
        return False
    try:
        classes = java_classes(throwable)
    except Exception:  # the JVM itself is gone
        return unreadable
    return any(c in wanted for c in classes)


def is_transient(error: BaseException) -> bool:
    if isinstance(error, ConnectionError | TimeoutError):
        return True
    # a JVM that is gone is transient too: nothing a pause would help
    return _has_class(error, TRANSIENT_CLASSES, unreadable=True)


# A commit refused because another writer committed first (the maintenance job's compaction, mostly): the batch's
# MERGE is planned again on the new snapshot (glue.job)
CONFLICT_CLASSES = (
    "org.apache.iceberg.exceptions.ValidationException",
    "org.apache.iceberg.exceptions.CommitFailedException",
)


def is_conflict(error: BaseException) -> bool:
    return _has_class(error, CONFLICT_CLASSES, unreadable=False)


def one_line(error: BaseException) -> str:
    """An error as one line: its first non-empty line, without Py4J's and Spark's wrapping (a Py4J error's own first
    line only names the call: "An error occurred while calling o123.sql.")."""
    text = str(error)
    if getattr(error, "java_exception", None) is not None:
        try:
            text = str(error.java_exception.toString())
        except Exception:  # the JVM is gone: Python's text is all there is
            pass
    text = text.strip() or error.__class__.__name__
    first = next((line.strip() for line in text.splitlines() if line.strip()), text)
    return first[:300]
