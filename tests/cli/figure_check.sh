# Sourced by the CLI tests: check_figure DIR NAME checks the layout of one figure (docs/conventions.md,
# "Figures"): DIR/NAME.png and DIR/NAME.svg side by side, the script DIR/figures/NAME.gp and nothing of the
# figure's sources (.gp, .gnuplot.log) beside the images. Without gnuplot only the script is required.
# Prints what is wrong and returns 1, so: check_figure "$D/run" slopes || fail "slopes figure".
check_figure() {
  local dir="$1" name="$2" bad=0
  [ -s "$dir/figures/$name.gp" ] || { echo "missing $dir/figures/$name.gp"; bad=1; }
  for f in "$name.gp" "$name.gnuplot.log"; do
    [ -e "$dir/$f" ] && { echo "$dir/$f: belongs in $dir/figures/"; bad=1; }
  done
  if command -v gnuplot > /dev/null 2>&1; then
    for f in "$name.png" "$name.svg"; do
      [ -s "$dir/$f" ] || { echo "missing $dir/$f"; bad=1; }
    done
    grep -q "<svg" "$dir/$name.svg" 2> /dev/null || { echo "$dir/$name.svg is not an SVG"; bad=1; }
  fi
  return $bad
}
