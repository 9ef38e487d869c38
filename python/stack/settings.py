"""The local stack's components and the settings that place them, read from the environment.

scripts/lib.sh exports versions.env, .env.example and .env before any of this runs.
"""

import os
from dataclasses import dataclass

import boto3
from botocore.config import Config


@dataclass(frozen=True)
class Component:
    name: str
    host: str
    port: int
    port_setting: str  # the .env setting that moves it, named in errors

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"


def setting(name: str) -> str:
    try:
        return os.environ[name]
    except KeyError:
        raise SystemExit(f"stack: setting {name} is not set; run through make or source scripts/lib.sh") from None


def components() -> dict[str, Component]:
    def make(name: str, host_setting: str, port_setting: str) -> Component:
        return Component(name, setting(host_setting), int(setting(port_setting)), port_setting)

    return {
        "postgres": make("postgres", "PG_HOST", "PG_PORT"),
        "kafka": make("kafka", "KAFKA_HOST", "KAFKA_PORT"),
        "connect": make("connect", "CONNECT_HOST", "CONNECT_PORT"),
        "aws": make("aws", "AWS_ENDPOINT_HOST", "AWS_ENDPOINT_PORT"),
        "objectstore": make("objectstore", "OBJECT_STORE_HOST", "OBJECT_STORE_PORT"),
    }


def log_file(component: str) -> str:
    return os.path.join(setting("STATE_DIR"), "logs", f"{component}.log")


def app_dsn(connect_timeout: int = 5) -> dict:
    """psycopg2's connection arguments for the stack's database as the application user."""
    return dict(host=setting("PG_HOST"), port=setting("PG_PORT"), dbname=setting("PG_DATABASE"),
                user=setting("PG_APP_USER"), password=setting("PG_APP_PASSWORD"), connect_timeout=connect_timeout)


def verify_results() -> str:
    """Where make verify leaves its last result, for make status."""
    return os.path.join(setting("STATE_DIR"), "verify", "last.json")


def connect_url() -> str:
    return f"http://{setting('CONNECT_HOST')}:{setting('CONNECT_PORT')}"


def aws_endpoint_url() -> str:
    return f"http://{setting('AWS_ENDPOINT_HOST')}:{setting('AWS_ENDPOINT_PORT')}"


def local_client(service: str, config: Config | None = None):
    """A boto3 client of the local AWS endpoint (it takes any credentials): local_client("secretsmanager"), ..."""
    return boto3.client(service, endpoint_url=aws_endpoint_url(), region_name=setting("AWS_REGION"),
                        aws_access_key_id="test", aws_secret_access_key="test", config=config)


def object_store_url() -> str:
    return f"http://{setting('OBJECT_STORE_HOST')}:{setting('OBJECT_STORE_PORT')}"


def lake_s3(config: Config | None = None):
    """A boto3 S3 client of the lake's object store (path-style, with the store's credentials)."""
    path_style = Config(s3={"addressing_style": "path"})
    return boto3.client("s3", endpoint_url=object_store_url(), region_name=setting("AWS_REGION"),
                        aws_access_key_id=setting("OBJECT_STORE_ACCESS_KEY"),
                        aws_secret_access_key=setting("OBJECT_STORE_SECRET_KEY"),
                        config=path_style.merge(config) if config else path_style)
