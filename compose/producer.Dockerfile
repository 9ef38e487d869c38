# The data generator (python/producer) as a container. Build context: the repository root; versions come
# from versions.env through build args.
ARG PYTHON_IMAGE
FROM ${PYTHON_IMAGE}

ARG PSYCOPG2_BINARY_VERSION
ARG FAKER_VERSION
ARG TQDM_VERSION
ARG TENACITY_VERSION
RUN pip install --no-cache-dir \
      "psycopg2-binary==${PSYCOPG2_BINARY_VERSION}" \
      "faker==${FAKER_VERSION}" \
      "tqdm==${TQDM_VERSION}" \
      "tenacity==${TENACITY_VERSION}"

WORKDIR /app
COPY python/producer ./producer
ENV PYTHONUNBUFFERED=1
# It needs no privileges: it only talks to PostgreSQL.
USER nobody
CMD ["python", "-m", "producer", "run"]
