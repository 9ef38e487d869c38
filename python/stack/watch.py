"""Print a table's change events as they arrive, one line each (`make watch TABLE=orders`)."""

from kafka import KafkaConsumer

from stack.events import parse, summary
from stack.settings import setting


def watch(table: str, from_beginning: bool) -> None:
    topic = f"{setting('TOPIC_PREFIX')}.{setting('PG_SCHEMA')}.{table}"
    consumer = KafkaConsumer(topic, bootstrap_servers=f"{setting('KAFKA_HOST')}:{setting('KAFKA_PORT')}",
                             enable_auto_commit=False,
                             auto_offset_reset="earliest" if from_beginning else "latest")
    print(f"==> watching {topic} (Ctrl-C to stop)", flush=True)
    try:
        for message in consumer:
            print(summary(parse(message)), flush=True)
    except KeyboardInterrupt:
        pass
    finally:
        consumer.close()
