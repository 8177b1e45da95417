#!/usr/bin/env bash
# Builds the FerretDB test peer (rel/ferretdb, its own Go module: FerretDB v1
# with the SQLite backend) into bin/ferretdb, which the mongodb:// peer tests
# start. Skipped when bin/ferretdb is newer than its sources. It is built from a
# small main package embedding github.com/FerretDB/FerretDB/ferretdb (version
# pinned in rel/ferretdb/go.mod), not with `go install …@version`. The
# PostgreSQL backend is left out (-tags ferretdb_no_postgresql).
set -euo pipefail

root="$(cd "$(dirname "$0")/../.." && pwd)"
src="$root/rel/ferretdb"
out="$root/bin/ferretdb"

if [ -x "$out" ] && [ -z "$(find "$src" -newer "$out" -name '*.go' -o -newer "$out" -name 'go.*' | head -1)" ]; then
  echo "build-ferretdb: $out is up to date"
  exit 0
fi

mkdir -p "$root/bin"
echo "build-ferretdb: building $out (FerretDB v1, SQLite backend; this takes a few minutes)"
cd "$src"
go build -buildvcs=false -trimpath -tags ferretdb_no_postgresql -o "$out" .
echo "build-ferretdb: done"
