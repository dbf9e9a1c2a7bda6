#!/usr/bin/env bash
# Copies the front-end assets from node_modules (npm registry) into static/vendor/.
set -euo pipefail
cd "$(dirname "$0")/.."
N=node_modules
V=static/vendor
mkdir -p $V/bootstrap $V/htmx $V/chartjs $V/bootstrap-icons/fonts
cp $N/bootstrap/dist/css/bootstrap.min.css{,.map} $N/bootstrap/dist/js/bootstrap.bundle.min.js{,.map} $N/bootstrap/LICENSE $V/bootstrap/
cp $N/htmx.org/dist/htmx.min.js $N/htmx.org/LICENSE $V/htmx/
cp $N/chart.js/dist/chart.umd.min.js{,.map} $N/chart.js/LICENSE.md $V/chartjs/
cp $N/bootstrap-icons/font/bootstrap-icons.min.css $N/bootstrap-icons/LICENSE $V/bootstrap-icons/
cp $N/bootstrap-icons/font/fonts/bootstrap-icons.woff{,2} $V/bootstrap-icons/fonts/
node -e 'for (const p of ["bootstrap","htmx.org","chart.js","bootstrap-icons"]) console.log(p, require(`./node_modules/${p}/package.json`).version)' \
  | sed '1i # Front-end assets copied from the npm registry (no CDN at run time).\n# Refresh with: make vendor' > $V/VERSIONS
