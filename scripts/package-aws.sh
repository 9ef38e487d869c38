#!/usr/bin/env bash
# Builds what Terraform uploads to S3, into $BUILD_DIR/aws/:
#   debezium-connector-postgres.zip  MSK Connect custom plugin: the Debezium PostgreSQL connector jars that
#                                    `make install` resolved from Maven Central (the local stack's plugin), plus the
#                                    Secrets Manager config provider the worker configuration names
#                                    (io.github.cdclake.connect.SecretsManagerConfigProvider: the project's own,
#                                    jvm/secrets-manager-config-provider, which `make install` builds with its AWS SDK
#                                    jars from Maven Central), each in a folder of its own, as on the local plugin.path
#   glue-job.zip                     the Glue job's `glue` package (python/glue), given to the job as --extra-py-files
#   glue-jars/                       the jars the job adds to Glue's own (jvm/glue-jars: MSK IAM auth), --extra-jars
# The zips are byte-for-byte reproducible (sorted entries, fixed timestamps, and a provider jar built with a fixed
# timestamp): an unchanged input leaves the S3 objects' etags, and so the plugin and the connector, untouched.
. "$(dirname "$0")/lib.sh"

plugins="$BUILD_DIR/jvm/plugins"
out="${AWS_PACKAGE_DIR:-$BUILD_DIR/aws}"  # the tests package into a folder of their own
for plugin in debezium-connector-postgres secrets-manager-config-provider; do
  ls "$plugins/$plugin"/*.jar >/dev/null 2>&1 ||
    die "$plugins/$plugin holds no jar: run make install (it resolves Debezium and builds the config provider)"
done
ls "$BUILD_DIR/jvm/glue-jars"/*.jar >/dev/null 2>&1 || die "$BUILD_DIR/jvm/glue-jars holds no jar: run make install"

mkdir -p "$out"
rm -rf "$out/glue-jars" && cp -r "$BUILD_DIR/jvm/glue-jars" "$out/glue-jars"
python3 - "$plugins" "$ROOT/python/glue" "$out" <<'EOF'
import sys
import zipfile
from pathlib import Path

plugins, glue_dir, out = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
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


plugin = {f"{name}/{p.name}": p.read_bytes()
          for name in ("debezium-connector-postgres", "secrets-manager-config-provider")
          for p in (plugins / name).glob("*.jar")}
write(out / "debezium-connector-postgres.zip", plugin)

package = {f"glue/{p.relative_to(glue_dir)}": p.read_bytes() for p in glue_dir.rglob("*.py") if "__pycache__" not in p.parts}
write(out / "glue-job.zip", package)
EOF
