#!/usr/bin/env bash
# Opens a run's report.html in headless Chromium: it must be self-contained (no link to another file or the
# network), every image must load, the console must stay silent; keeps a full-page screenshot.
#   check_report_html.sh REPORT.html SCREENSHOT.png
set -u
html=$1; shot=$2; work=$(dirname "$shot")/chromium_check; rm -rf "$work"; mkdir -p "$work"
fail() { echo "FAIL (report.html): $*"; exit 1; }
command -v chromium > /dev/null || fail "chromium is not installed (the test command's setup installs it: NNSPICE_TEST_PACKAGES=1 scripts/setup.sh)"
[ -s "$html" ] || fail "no $html"
grep -qiE '(src|href)="(https?:|//|file:)' "$html" && fail "links to the network or to files: $(grep -oiE '(src|href)="(https?:|//|file:)[^"]{0,60}' "$html" | head -3)"
grep -oE '<img src="[^"]{0,12}' "$html" | grep -qv 'src="data:image/' && fail "an image that is not embedded: $(grep -oE '<img src="[^"]{0,40}' "$html" | grep -v 'data:image/' | head -2)"
grep -q 'class="missing"' "$html" && fail "a figure is missing: $(grep -o 'figure missing: [^<]*' "$html" | head -3)"
n=$(grep -o '<img ' "$html" | wc -l)
[ "$n" -ge 1 ] || fail "no figure in the report"
# A copy with a probe that counts the images that really decoded (the report itself has no script).
probe="$work/probe.html"
sed 's|</body>|<script>window.addEventListener("load",()=>{const im=[...document.images];const ok=im.filter(i=>i.complete\&\&i.naturalWidth>0);document.title="IMAGES "+ok.length+"/"+im.length;});</script></body>|' "$html" > "$probe"
flags=(--headless --no-sandbox --disable-gpu --disable-dev-shm-usage --user-data-dir="$work/profile" --enable-logging=stderr --v=0)
timeout 120 chromium "${flags[@]}" --virtual-time-budget=10000 --dump-dom "file://$(realpath "$probe")" > "$work/dom.html" 2> "$work/probe.log" || fail "chromium failed on the probe: $(tail -3 "$work/probe.log")"
grep -q "<title>IMAGES $n/$n</title>" "$work/dom.html" || fail "not every image loaded: $(grep -o '<title>[^<]*</title>' "$work/dom.html") of $n"
# The report itself: no console message at all (errors, warnings, blocked resources), and a screenshot.
timeout 120 chromium "${flags[@]}" --virtual-time-budget=10000 --hide-scrollbars --window-size=1280,4000 --screenshot="$shot" \
  "file://$(realpath "$html")" > "$work/shot.log" 2>&1 || fail "chromium failed: $(tail -3 "$work/shot.log")"
grep -q "CONSOLE" "$work/shot.log" && fail "console messages: $(grep CONSOLE "$work/shot.log" | head -3)"
[ "$(head -c 4 "$shot" | tail -c 3)" = "PNG" ] || fail "no screenshot at $shot"
echo "report.html: $n images loaded, console silent; screenshot $shot"
