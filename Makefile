# Change data capture from PostgreSQL through Debezium and Kafka into an S3 lake.
# `make` alone lists the targets. Settings: .env.example (defaults) and .env (yours).

# ---- variables -----------------------------------------------------------------------------------
MODE ?= native
C ?=
TABLE ?= orders
LAKE_TABLE = $(if $(filter command line,$(origin TABLE)),$(TABLE))
FROM_BEGINNING ?=
PYTEST_ARGS ?=
# where aws-plan/apply/destroy deploy: local (the AWS endpoint of `make local-up`) or aws
TARGET ?= local
BENCH_ARGS ?=
CHAOS_ARGS ?=

SHELL := /bin/bash
.DEFAULT_GOAL := help
ENV := . scripts/lib.sh &&
COMPOSE := docker compose --env-file versions.env --env-file .env.example $(if $(wildcard .env),--env-file .env) -f compose/docker-compose.yml

.PHONY: help install local-up local-services local-down status logs restart watch lake sql verify resync rebuild maintain recover-slot test unit-test e2e-test lint chaos bench teardown

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z0-9_-]+:.*## / {printf "  %-12s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

install: ## install what is missing: Debian packages, .venv, Kafka and Debezium jars
	@scripts/install.sh

local-up: ## start the local pipeline (MODE=native processes, or MODE=compose with Docker)
ifeq ($(MODE),compose)
	@docker info >/dev/null 2>&1 || { echo "error: MODE=compose needs a running Docker engine; use MODE=native (the default)" >&2; exit 1; }
	$(COMPOSE) up -d --build --wait
else
	@scripts/local-up.sh
endif

local-services: ## start the services without the local pipeline's connector, job and producer (what aws-apply TARGET=local deploys on)
	@scripts/local-up.sh --services

local-down: ## stop every component and keep all data: make local-up resumes where it stopped
	@scripts/local-down.sh

status: ## state of each component, the connector and the replication slot's lag
	@$(ENV) if supervisord_running; then python -m stack status; \
	 elif [ -d "$$STATE_DIR" ]; then echo "local stack: stopped, its data kept in $$STATE_DIR (make local-up resumes it)"; \
	 else echo "local stack: not running (make local-up)"; fi

logs: ## follow the components' logs (C=kafka for one)
	@$(ENV) tail -n 20 -F $(if $(C),"$$STATE_DIR/logs/$(C).log","$$STATE_DIR"/logs/*.log)

restart: ## restart one component and wait until it answers, e.g. make restart C=connect
	@test -n "$(C)" || { echo "error: name the component: make restart C=connect" >&2; exit 2; }
	@$(ENV) supervisorctl restart $(C) && case "$(C)" in \
	  postgres|kafka|connect|aws|objectstore) python -m stack wait $(C) ;; glue) python -m stack wait-job ;; esac

watch: ## print change events of one table as they arrive (TABLE=customers, FROM_BEGINNING=1)
	@$(ENV) python -m stack watch $(TABLE) $(if $(FROM_BEGINNING),--from-beginning)

lake: ## the lake's tables (rows, last commit, freshness), or rows of one (make lake TABLE=orders)
	@$(ENV) python -m lake $(LAKE_TABLE)

sql: ## a query over the lake's tables, e.g. make sql Q="select count(*) from orders"
	@test -n "$$Q" || { echo 'error: give the query: make sql Q="select count(*) from orders"' >&2; exit 2; }
	@$(ENV) python -m lake --sql "$$Q"

verify: ## reconcile every mirror with its source while changes flow, exit 1 on drift (TABLE=orders for one)
	@$(ENV) python -m lake --verify $(LAKE_TABLE)

resync: ## have Debezium re-read one table into the lake without stopping anything (make resync TABLE=orders)
	@test "$(origin TABLE)" = "command line" || { echo "error: name the table: make resync TABLE=orders" >&2; exit 2; }
	@$(ENV) python -m stack resync $(TABLE)

rebuild: ## have the job rebuild one mirror from the change log (make rebuild TABLE=orders)
	@test "$(origin TABLE)" = "command line" || { echo "error: name the table: make rebuild TABLE=orders" >&2; exit 2; }
	@$(ENV) python -m stack rebuild $(TABLE)

maintain: ## one round of the lake's upkeep now (compaction, snapshot expiry, orphan files); the stack runs one every MAINTENANCE_INTERVAL_SECONDS
	@$(ENV) python -m glue.run_local --maintenance -- --maintenance-interval-seconds 0

recover-slot: ## after the replication slot was lost (make status says so): a new slot, every table re-read into the lake
	@$(ENV) python -m stack recover-slot

test: unit-test e2e-test infra-test ## unit, end-to-end and infrastructure suites (starts the local stack if needed)

unit-test: install ## unit tests: no services needed
	@$(ENV) python -m pytest tests/unit $(PYTEST_ARGS)

e2e-test: local-up ## end-to-end tests against the running local stack
	@$(ENV) python -m pytest tests/integration $(PYTEST_ARGS)

lint: install ## ruff over the Python code
	@$(ENV) ruff check python tests

teardown: ## stop everything the project started and remove its state
ifeq ($(MODE),compose)
	$(COMPOSE) down -v
else
	@scripts/teardown.sh
endif

chaos: local-up ## the fault suite under a 300 changes/s journaled load: every component SIGKILLed 3 times, Kafka and the job stopped, local-down/up; the lake checked after each (CHAOS_ARGS=--short, --seed N)
	@$(ENV) python -m chaos run $(CHAOS_ARGS)

bench: local-up ## measure throughput and commit-to-lake latency, with ceilings and the peer (BENCH_ARGS=--help)
	@$(ENV) python -m bench run $(BENCH_ARGS)

# ---- AWS deployment: terraform/ (TARGET=local|aws) and its checks -------------------------------------------------
# A provider mirror in /opt/tf-plugins (this project's machines) is used when present; elsewhere `terraform init` uses
# your Terraform CLI configuration (its provider mirror, if any) or the registry.
TF_PLUGIN_DIR ?= $(wildcard /opt/tf-plugins)
# more terraform arguments, e.g. TF_ARGS="-var alarm_email=ops@example.com"
TF_ARGS ?=
# TARGET=aws asks before it applies or destroys (AUTO_APPROVE=1 does not); the local endpoint never asks
AUTO_APPROVE ?= $(filter local,$(TARGET))
TF_ROOT := terraform/envs/$(TARGET)
# state: the local endpoint's lives and dies with the stack (.state/), a real deployment's is kept in .build/
TF_STATE = $$$(if $(filter local,$(TARGET)),STATE_DIR,BUILD_DIR)/terraform/$(TARGET).tfstate
TF_OUTPUTS = $$$(if $(filter local,$(TARGET)),STATE_DIR,BUILD_DIR)/terraform/$(TARGET).outputs.json
# boto3 of python -m deploy (and of Terraform's provisioners, which set it themselves) against the local endpoint
DEPLOY_ENV = $(if $(filter local,$(TARGET)),AWS_ENDPOINT_URL="http://$$AWS_ENDPOINT_HOST:$$AWS_ENDPOINT_PORT" AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION="$$AWS_REGION")
TF = $(ENV) export TF_DATA_DIR="$$BUILD_DIR/terraform/$(TARGET)" TF_VAR_build_dir="$$BUILD_DIR" \
	TF_VAR_deploy_command="$$VENV/bin/python -m deploy" \
	$(if $(filter local,$(TARGET)),TF_VAR_endpoint="http://$$AWS_ENDPOINT_HOST:$$AWS_ENDPOINT_PORT" TF_VAR_region="$$AWS_REGION" TF_VAR_kafka_bootstrap="$$KAFKA_HOST:$$KAFKA_PORT") && \
	terraform -chdir=$(TF_ROOT)
DEPLOY = $(ENV) $(DEPLOY_ENV) python -m deploy

.PHONY: aws-package aws-init aws-plan aws-apply aws-destroy aws-sql infra-tools infra-check infra-test

aws-package: install ## zip the MSK Connect plugin (Debezium and our Secrets Manager config provider) and the Glue job's package into .build/aws/
	@scripts/package-aws.sh

aws-init: $(if $(filter local,$(TARGET)),local-services) aws-package
	@test -d $(TF_ROOT) || { echo "error: TARGET=$(TARGET): no $(TF_ROOT) (local or aws)" >&2; exit 2; }
	@$(ENV) mkdir -p "$$(dirname "$(TF_STATE)")"
	@$(TF) init -input=false $(if $(TF_PLUGIN_DIR),-plugin-dir=$(TF_PLUGIN_DIR)) -backend-config=path="$(TF_STATE)" -reconfigure

aws-plan: aws-init ## terraform plan of terraform/envs/TARGET (local: the AWS endpoint of local-up; aws: your account)
	@$(TF) plan -input=false $(TF_ARGS)

aws-apply: aws-init ## deploy terraform/envs/TARGET: infrastructure, database bootstrap, connector, the Glue job's run; waits until they run
	@$(TF) apply $(if $(AUTO_APPROVE),-input=false -auto-approve) $(TF_ARGS)
	@$(TF) output -json >"$(TF_OUTPUTS)" && $(DEPLOY) ready --outputs "$(TF_OUTPUTS)"

aws-destroy: aws-init ## stop the job's run, delete the connector, drop the slot, publication and role, destroy the rest (refused with deletion protection on)
	@$(TF) output -json >"$(TF_OUTPUTS)" && $(DEPLOY) check-destroy --outputs "$(TF_OUTPUTS)"
	@$(TF) destroy $(if $(AUTO_APPROVE),-input=false -auto-approve) $(TF_ARGS)

aws-sql: ## a query over the deployed lake through its Athena workgroup, e.g. make aws-sql TARGET=aws Q="select count(*) from orders"
	@test -n "$$Q" || { echo 'error: give the query: make aws-sql TARGET=aws Q="select count(*) from orders"' >&2; exit 2; }
	@$(ENV) if [ ! -f "$(TF_OUTPUTS)" ]; then echo "error: no deployment of TARGET=$(TARGET) recorded here: run make aws-apply TARGET=$(TARGET) first" >&2; exit 2; fi; \
	$(DEPLOY_ENV) python -m deploy sql --outputs "$(TF_OUTPUTS)" "$$Q"

infra-tools: ## install checkov into its own virtualenv, .build/checkov (it pins an older boto3 than ours)
	@$(ENV) want="$$CHECKOV_VERSION"; have=$$("$$BUILD_DIR/checkov/bin/checkov" --version 2>/dev/null || true); \
	 if [ "$$have" = "$$want" ]; then echo "checkov $$have: already installed"; else \
	 python3 -m venv "$$BUILD_DIR/checkov" && "$$BUILD_DIR/checkov/bin/pip" install -q -r requirements-checkov.txt; fi

infra-check: install infra-tools ## terraform fmt/validate/test, checkov, cfn-lint, versions and TF<->CloudFormation parity
	@$(ENV) python -m pytest tests/infra --ignore=tests/infra/test_deployed_pipeline.py \
	 --ignore=tests/infra/test_cloudformation_local.py $(PYTEST_ARGS)

infra-test: install infra-tools local-up ## infra-check, then Terraform and CloudFormation against the local AWS endpoint
	@$(ENV) python -m pytest tests/infra $(PYTEST_ARGS)
