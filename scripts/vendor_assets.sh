#!/usr/bin/env bash
# Refreshes the console's third-party web assets from the npm registry (not run by make run or
# make test: the files are committed). Each package's licence is copied next to its files.
set -euo pipefail
cd "$(dirname "$0")/.."
HTMX_VERSION=${HTMX_VERSION:-2.0.11}
SWAGGER_UI_VERSION=${SWAGGER_UI_VERSION:-5.36.0}
vendor=src/smarter/entrypoints/console/static/vendor
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "htmx.org@$HTMX_VERSION" "swagger-ui-dist@$SWAGGER_UI_VERSION" >/dev/null)
for tarball in "$work"/*.tgz; do tar xzf "$tarball" -C "$work" && mv "$work/package" "${tarball%.tgz}"; done
rm -rf "$vendor" && mkdir -p "$vendor/htmx" "$vendor/swagger-ui"
cp "$work/htmx.org-$HTMX_VERSION/dist/htmx.min.js" "$work/htmx.org-$HTMX_VERSION/LICENSE" "$vendor/htmx/"
swagger="$work/swagger-ui-dist-$SWAGGER_UI_VERSION"
cp "$swagger"/{swagger-ui-bundle.js,swagger-ui-bundle.js.LICENSE.txt,swagger-ui-standalone-preset.js,swagger-ui.css,LICENSE,NOTICE} "$vendor/swagger-ui/"
# Drop the source-map comments: the maps are not vendored.
sed -i '/^\/\/# sourceMappingURL=/d' "$vendor"/swagger-ui/*.js
sed -i 's#/\*\# sourceMappingURL=.*\*/##' "$vendor/swagger-ui/swagger-ui.css"
cat > "$vendor/VERSIONS" <<VERSIONS
htmx.org $HTMX_VERSION (npm), BSD Zero-Clause licence: htmx/LICENSE
swagger-ui-dist $SWAGGER_UI_VERSION (npm), Apache-2.0 licence: swagger-ui/LICENSE, swagger-ui/NOTICE
VERSIONS
echo "vendored: $(tr '\n' ';' < "$vendor/VERSIONS")"
