#!/usr/bin/env bash
# Installs what the local stack needs and is missing: Debian packages (PostgreSQL server, envsubst,
# jq, curl), the Python virtualenv from requirements.txt, the JVM components from Maven Central, and the lake's
# object store (versitygw) from the Go module proxy.
# Each step is skipped when its inputs have not changed since it last ran.
. "$(dirname "$0")/lib.sh"

stamp_ok() { # stamp_ok NAME INPUT... : true when NAME's stamp matches the inputs' checksum
  local sum; sum=$(cat "${@:2}" | sha256sum | cut -d' ' -f1)
  [ -f "$BUILD_DIR/$1.stamp" ] && [ "$(cat "$BUILD_DIR/$1.stamp")" = "$sum" ]
}
stamp_write() { mkdir -p "$BUILD_DIR"; cat "${@:2}" | sha256sum | cut -d' ' -f1 >"$BUILD_DIR/$1.stamp"; }

install_debian_packages() {
  local missing=()
  [ -x "$(pg_bindir)/initdb" ] || missing+=(postgresql)
  command -v envsubst >/dev/null || missing+=(gettext-base)
  command -v jq >/dev/null || missing+=(jq)
  command -v curl >/dev/null || missing+=(curl)
  command -v java >/dev/null || missing+=(openjdk-17-jdk-headless)
  command -v mvn >/dev/null || missing+=(maven)
  [ ${#missing[@]} -eq 0 ] && return
  log "installing Debian packages: ${missing[*]}"
  [ "$(id -u)" = 0 ] || die "missing ${missing[*]}: install them with apt-get (needs root), then rerun"
  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
}

install_python() {
  if stamp_ok python "$ROOT/requirements.txt" "$ROOT/versions.env" && [ -x "$VENV/bin/python" ]; then return; fi
  log "creating the Python virtualenv in .venv (requirements.txt)"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q -r "$ROOT/requirements.txt"
  stamp_write python "$ROOT/requirements.txt" "$ROOT/versions.env"
}

install_jvm() {
  # the poms, and the sources of the one module that compiles (jvm/secrets-manager-config-provider)
  local inputs=("$ROOT/versions.env" "$ROOT"/jvm/pom.xml "$ROOT"/jvm/*/pom.xml)
  mapfile -t -O ${#inputs[@]} inputs < <(find "$ROOT/jvm" -path '*/src/*' -type f | LC_ALL=C sort)
  if stamp_ok jvm "${inputs[@]}" && [ -d "$BUILD_DIR/jvm/kafka" ] && [ -d "$BUILD_DIR/jvm/spark" ] &&
    [ -d "$BUILD_DIR/jvm/plugins/iceberg-kafka-connect" ] &&
    [ -d "$BUILD_DIR/jvm/plugins/secrets-manager-config-provider" ] && [ -d "$BUILD_DIR/jvm/glue-jars" ]; then return; fi
  log "resolving Kafka, Debezium, the Spark job's jars and the Iceberg sink (make bench's peer) from Maven Central, and building the Secrets Manager config provider, into $BUILD_DIR/jvm (first run downloads ~700 MB)"
  rm -rf "$BUILD_DIR/jvm"
  mvn -B -q -Dstyle.color=never -f "$ROOT/jvm/pom.xml" package \
    -Djvm.out="$BUILD_DIR/jvm" \
    -Dkafka.version="$KAFKA_VERSION" -Dscala.binary.version="$SCALA_BINARY_VERSION" \
    -Ddebezium.version="$DEBEZIUM_VERSION" -Dlog4j.version="$LOG4J_VERSION" \
    -Dspark.version="$PYSPARK_VERSION" -Dspark.scala.binary.version="$SPARK_SCALA_BINARY_VERSION" \
    -Diceberg.version="$ICEBERG_VERSION" -Dhadoop.aws.version="$HADOOP_AWS_VERSION" \
    -Dpostgresql.jdbc.version="$POSTGRESQL_JDBC_VERSION" -Dmsk.iam.auth.version="$MSK_IAM_AUTH_VERSION" \
    -Dmaven.dependency.plugin.version="$MAVEN_DEPENDENCY_PLUGIN_VERSION" \
    -Daws.sdk.version="$AWS_SDK_VERSION" -Djunit.version="$JUNIT_VERSION" \
    -Dmaven.resources.plugin.version="$MAVEN_RESOURCES_PLUGIN_VERSION" \
    -Dmaven.compiler.plugin.version="$MAVEN_COMPILER_PLUGIN_VERSION" \
    -Dmaven.surefire.plugin.version="$MAVEN_SUREFIRE_PLUGIN_VERSION" \
    -Dmaven.jar.plugin.version="$MAVEN_JAR_PLUGIN_VERSION"
  stamp_write jvm "${inputs[@]}"
}

# versitygw, built from its Go module into $BUILD_DIR/bin (its go.mod names the Go toolchain it needs, which
# GOTOOLCHAIN=auto fetches from the module proxy when the machine's is older).
install_object_store() {
  local bin="$BUILD_DIR/bin/versitygw"
  if [ -x "$bin" ] && [ "$("$bin" --version 2>/dev/null | awk '/^Version/ {print $3}')" = "$VERSITYGW_VERSION" ]; then return; fi
  command -v go >/dev/null || die "the lake's object store (versitygw) is built with Go 1.21 or newer, which is missing: install it (your distribution's golang package, if new enough), then rerun"
  log "building the lake's object store, versitygw $VERSITYGW_VERSION, from its Go module into $BUILD_DIR/bin"
  GOBIN="$BUILD_DIR/bin" GOTOOLCHAIN=auto GOFLAGS=-buildvcs=false go install -trimpath \
    -ldflags "-X main.Version=$VERSITYGW_VERSION" "github.com/versity/versitygw/cmd/versitygw@$VERSITYGW_VERSION"
}

install_debian_packages
install_python
install_jvm
install_object_store
log "install: done"
