#!/usr/bin/env bash
# Builds what Terraform uploads to S3, into $BUILD_DIR/aws/:
#   debezium-connector-postgres.zip  MSK Connect custom plugin: the Debezium PostgreSQL connector jars that
#                                    `make install` resolved from Maven Central (the local stack's plugin), plus the
#                                    Secrets Manager config provider the worker configuration names
#   glue-job.zip                     the Glue job's `glue` package (python/glue), given to the job as --extra-py-files
# The zips are byte-for-byte reproducible (sorted entries, fixed timestamps): an unchanged input leaves the S3
# objects' etags, and so the plugin and the connector, untouched.
#
# The config provider (com.amazonaws.kafka.config.providers.SecretsManagerConfigProvider, from the
# aws-samples/msk-config-providers release zip that the MSK Connect documentation points to) is not on Maven
# Central: download it once and name it with MSK_CONFIG_PROVIDERS=/path/to/msk-config-providers-<version>-with-dependencies.jar
# (or the release .zip). PLUGIN_WITHOUT_CONFIG_PROVIDER=1 builds the zip without it, for plans and the local
# endpoint only: a connector deployed from that zip cannot resolve its database password.
. "$(dirname "$0")/lib.sh"

plugin_dir="$BUILD_DIR/jvm/plugins/debezium-connector-postgres"
out="${AWS_PACKAGE_DIR:-$BUILD_DIR/aws}"  # the tests package into a folder of their own
[ -d "$plugin_dir" ] || die "$plugin_dir is missing: run make install (it resolves Debezium from Maven Central)"

provider="${MSK_CONFIG_PROVIDERS:-}"
if [ -n "$provider" ]; then
  [ -f "$provider" ] || die "MSK_CONFIG_PROVIDERS=$provider: no such file"
elif [ "${PLUGIN_WITHOUT_CONFIG_PROVIDER:-}" = 1 ]; then
  log "packaging the plugin WITHOUT the Secrets Manager config provider (PLUGIN_WITHOUT_CONFIG_PROVIDER=1): not deployable"
else
  die "set MSK_CONFIG_PROVIDERS to the msk-config-providers jar or release zip (see the top of $0 and terraform/README.md)"
fi

mkdir -p "$out"
python3 - "$plugin_dir" "$provider" "$ROOT/python/glue" "$out" <<'EOF'
import sys
import zipfile
from pathlib import Path

plugin_dir, provider, glue_dir, out = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3]), Path(sys.argv[4])
FIXED_TIME = (1980, 1, 1, 0, 0, 0)


def write(zip_path: Path, entries: dict[str, bytes]) -> None:
    tmp = zip_path.with_suffix(".tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
        for name in sorted(entries):
            info = zipfile.ZipInfo(name, FIXED_TIME)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, entries[name])
    tmp.replace(zip_path)
    print(f"==> {zip_path} ({len(entries)} files, {zip_path.stat().st_size // 1024} KiB)", file=sys.stderr)


plugin = {f"debezium-connector-postgres/{p.name}": p.read_bytes() for p in plugin_dir.glob("*.jar")}
if provider:
    src = Path(provider)
    if src.suffix == ".zip":  # the release zip: take its jars
        with zipfile.ZipFile(src) as z:
            for name in z.namelist():
                if name.endswith(".jar"):
                    plugin[f"msk-config-providers/{Path(name).name}"] = z.read(name)
    else:
        plugin[f"msk-config-providers/{src.name}"] = src.read_bytes()
write(out / "debezium-connector-postgres.zip", plugin)

package = {f"glue/{p.relative_to(glue_dir)}": p.read_bytes() for p in glue_dir.rglob("*.py") if "__pycache__" not in p.parts}
write(out / "glue-job.zip", package)
EOF
