#!/usr/bin/env bash
# Install bpmn-js from npm (exact versions from web/package-lock.json) and copy its
# distributed files (viewer and modeler) into web/static/vendor/ (ignored by git). Without npm the pages still
# work and show each pathway as a list of steps instead of a drawn diagram.
set -euo pipefail
cd "$(dirname "$0")/../web"
vendor=static/vendor
mkdir -p "$vendor"
if ! command -v npm >/dev/null 2>&1; then
  echo "npm not found: skipping bpmn-js (diagrams will show as step lists)"
  touch "$vendor/.stamp"
  exit 0
fi
echo "installing bpmn-js with npm ci"
npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
rm -rf "$vendor/bpmn-js"
mkdir -p "$vendor/bpmn-js"
cp node_modules/bpmn-js/dist/bpmn-navigated-viewer.production.min.js "$vendor/bpmn-js/"
# The process studio's editor: the Modeler bundle of the same package (no CDN, works offline).
cp node_modules/bpmn-js/dist/bpmn-modeler.production.min.js "$vendor/bpmn-js/"
cp -r node_modules/bpmn-js/dist/assets "$vendor/bpmn-js/assets"
touch "$vendor/.stamp"
echo "bpmn-js $(node -p "require('./node_modules/bpmn-js/package.json').version") copied to web/$vendor/bpmn-js"
