"""A CloudFormation stack of cloudformation.yaml as python -m deploy's arguments: its outputs and parameters."""

from __future__ import annotations

import boto3

# argument -> where the stack has it
OUTPUTS = {"cluster_arn": "AuroraClusterArn", "master_secret_arn": "AuroraMasterSecretArn",
           "cdc_secret_arn": "CdcUserSecretArn", "job_name": "GlueJobName"}
PARAMETERS = {"database": "PgDatabase", "schema": "PgSchema", "cdc_user": "PgCdcUser", "publication": "PgPublication",
              "slot": "PgSlot"}


def values(stack: str) -> dict[str, str]:
    (described,) = boto3.client("cloudformation").describe_stacks(StackName=stack)["Stacks"]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}
    parameters = {p["ParameterKey"]: p["ParameterValue"] for p in described.get("Parameters", [])}
    found = {arg: outputs[key] for arg, key in OUTPUTS.items() if key in outputs}
    found.update({arg: parameters[key] for arg, key in PARAMETERS.items() if key in parameters})
    return found
