"""What a deployment needs beyond its resources, run by Terraform (`terraform_data` provisioners) on `make aws-apply`
and `make aws-destroy`, for TARGET=aws and TARGET=local alike: the database bootstrapped through the RDS Data API
(roles, schema, publication, DDL capture; the replication role's password generated into its secret), the Glue job's
run started and stopped, and the wait for the connector and the job to run. boto3 finds the endpoint, region and
credentials as usual (AWS_ENDPOINT_URL for the local endpoint)."""
