"""The connector's database credentials as a Secrets Manager secret on the local AWS endpoint.

The local worker reads the password as MSK Connect does on AWS: `${secretsmanager:<secret name>:password}`,
resolved by the project's config provider (jvm/secrets-manager-config-provider). Nothing here prints a value.
"""

import json
from collections.abc import Mapping


def password_ref(secret_name: str) -> str:
    """The connector config's reference to the secret's `password` key."""
    if not secret_name or any(c in secret_name for c in ":{}$"):
        raise ValueError(f"secret name {secret_name!r}: empty, or a character a ${{provider:path:key}} "
                         "reference cannot hold (: { } $)")
    return f"${{secretsmanager:{secret_name}:password}}"


def put_json_secret(client, name: str, value: Mapping[str, str]) -> str:
    """Create the secret, or give it a new version when its JSON differs; 'created', 'updated' or 'unchanged'."""
    text = json.dumps(dict(value), sort_keys=True)
    try:
        current = client.get_secret_value(SecretId=name).get("SecretString")
    except client.exceptions.ResourceNotFoundException:
        client.create_secret(Name=name, SecretString=text,
                             Description="database credentials of the CDC connector (local stack)")
        return "created"
    try:
        if json.loads(current or "") == dict(value):
            return "unchanged"
    except json.JSONDecodeError:
        pass
    client.put_secret_value(SecretId=name, SecretString=text)
    return "updated"
