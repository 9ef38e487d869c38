# Change data capture from PostgreSQL through Debezium and Kafka into an S3 lake.
# `make` alone lists the targets. Settings: .env.example (defaults) and .env (yours).

# ---- variables -----------------------------------------------------------------------------------
MODE ?= native
C ?=
TABLE ?= orders
LAKE_TABLE = $(if $(filter command line,$(origin TABLE)),$(TABLE))
FROM_BEGINNING ?=
PYTEST_ARGS ?=

SHELL := /bin/bash
.DEFAULT_GOAL := help
ENV := . scripts/lib.sh &&
COMPOSE := docker compose --env-file versions.env --env-file .env.example $(if $(wildcard .env),--env-file .env) -f compose/docker-compose.yml

.PHONY: help install local-up status logs restart watch lake test unit-test e2e-test lint teardown

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

status: ## state of each component, the connector and the replication slot's lag
	@$(ENV) if supervisord_running; then supervisorctl status || true; python -m stack status; \
	 else echo "local stack: not running (make local-up)"; fi

logs: ## follow the components' logs (C=kafka for one)
	@$(ENV) tail -n 20 -F $(if $(C),"$$STATE_DIR/logs/$(C).log","$$STATE_DIR"/logs/*.log)

restart: ## restart one component and wait until it answers, e.g. make restart C=connect
	@test -n "$(C)" || { echo "error: name the component: make restart C=connect" >&2; exit 2; }
	@$(ENV) supervisorctl restart $(C) && case "$(C)" in \
	  postgres|kafka|connect|aws) python -m stack wait $(C) ;; glue) python -m stack wait-job ;; esac

watch: ## print change events of one table as they arrive (TABLE=customers, FROM_BEGINNING=1)
	@$(ENV) python -m stack watch $(TABLE) $(if $(FROM_BEGINNING),--from-beginning)

lake: ## the lake's tables with row counts, or rows of one (make lake TABLE=orders)
	@$(ENV) python -m glue.lake $(LAKE_TABLE)

test: unit-test e2e-test ## run every test suite (starts the local stack if needed)

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
