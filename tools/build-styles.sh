#!/usr/bin/env bash
# Rebuild bot/web/static/ from the GOV.UK Frontend package. The output is committed, so
# running Linkline never needs Node; run this only to change the styles or the version.
set -euo pipefail
GOVUK_FRONTEND=6.3.0   # must match the govuk-frontend-jinja pin in pyproject.toml (4.1.0)
SASS=1.108.2
here=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
npm init -y >/dev/null
npm install --no-audit --no-fund --silent "govuk-frontend@$GOVUK_FRONTEND" "sass@$SASS"
npx sass --no-source-map --style=compressed --load-path=node_modules --quiet-deps \
  "$here/bot/web/styles/linkline.scss" "$here/bot/web/static/linkline.css"
cp node_modules/govuk-frontend/dist/govuk/govuk-frontend.min.js "$here/bot/web/static/"
echo "built bot/web/static/ from govuk-frontend $GOVUK_FRONTEND"
