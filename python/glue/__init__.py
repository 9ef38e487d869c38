"""The Glue job: Debezium change events from Kafka into an S3 lake (change log + mirrored Iceberg tables)."""
