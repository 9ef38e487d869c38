"""The local AWS endpoint: moto's server, with what this project's Terraform needs and moto 5.2.5 lacks.

- moto_fixes: moto's S3 emptying a versioned bucket (delete markers), MSK clusters that become ACTIVE and a
  NotFoundException for one that does not exist;
- kafka: MSK cluster configurations and bootstrap brokers;
- kafkaconnect: MSK Connect custom plugins, worker configurations, connectors and their tags;
- glue: DeleteConnection.

server routes each request to these or to moto; `python -m localaws -H 127.0.0.1 -p 4566 --state-dir DIR` runs it.
persistence keeps moto's state and the additions' in DIR, saved after every request that may change it and restored
at start; without --state-dir it lives in memory only, as moto's does.
"""
