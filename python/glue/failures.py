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


def is_transient(error: BaseException) -> bool:
    if isinstance(error, ConnectionError | TimeoutError):
        return True
    throwable = _java_throwable(error)
    if throwable is None:
        return False
    try:
        classes = java_classes(throwable)
    except Exception:  # the JVM itself is gone: nothing a pause would help
        return True
    return any(c in TRANSIENT_CLASSES for c in classes)


def one_line(error: BaseException) -> str:
    """An error as one line: its first non-empty line, without Py4J's and Spark's wrapping."""
    text = str(error).strip() or error.__class__.__name__
    first = next((line.strip() for line in text.splitlines() if line.strip()), text)
    return first[:300]
