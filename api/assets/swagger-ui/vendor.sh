#!/usr/bin/env bash
# Copies Swagger UI's browser files for /docs from the swagger-ui-dist
# package into this folder and records their checksums:
#   api/assets/swagger-ui/vendor.sh 5.35.0
# `npm pack` fetches the package tarball only (no install scripts, no
# dependencies) and checks it against the registry's integrity hash.
# Afterwards `sha256sum -c SHA256SUMS` here checks the committed files.
set -euo pipefail
version=${1:?usage: vendor.sh VERSION}
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

(cd "$tmp" && npm pack --silent "swagger-ui-dist@$version" >/dev/null)
tar -xzf "$tmp/swagger-ui-dist-$version.tgz" -C "$tmp"
files=(swagger-ui-bundle.js swagger-ui.css LICENSE NOTICE swagger-ui-bundle.js.LICENSE.txt)
for file in "${files[@]}"; do
  cp "$tmp/package/$file" "$here/$file"
done
cd "$here"
{
  echo "# swagger-ui-dist $version"
  sha256sum "${files[@]}"
} >SHA256SUMS
cat SHA256SUMS
