# The one-shot setup service: runs scripts/bootstrap-db.sh and scripts/register-connector.sh, which the
# compose file mounts at /repo. Versions come from versions.env through build args.
ARG PYTHON_IMAGE
FROM ${PYTHON_IMAGE}

# curl and jq for register-connector.sh; envsubst for templates.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      curl jq gettext-base ca-certificates \
 && rm -rf /var/lib/apt/lists/*

# What `python -m stack` (the database bootstrap, render and wait for the connector) and
# `python -m producer create-schema` import; pinned like requirements.txt.
ARG BOTO3_VERSION
ARG BOTOCORE_VERSION
ARG KAFKA_PYTHON_VERSION
ARG PSYCOPG2_BINARY_VERSION
ARG FAKER_VERSION
ARG TQDM_VERSION
ARG REQUESTS_VERSION
ARG TENACITY_VERSION
RUN pip install --no-cache-dir \
      "boto3==${BOTO3_VERSION}" \
      "botocore==${BOTOCORE_VERSION}" \
      "kafka-python==${KAFKA_PYTHON_VERSION}" \
      "psycopg2-binary==${PSYCOPG2_BINARY_VERSION}" \
      "faker==${FAKER_VERSION}" \
      "tqdm==${TQDM_VERSION}" \
      "requests==${REQUESTS_VERSION}" \
      "tenacity==${TENACITY_VERSION}"

# The sources are mounted read-only: nothing may try to write bytecode next to them.
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /repo
