#!/bin/sh
# Close-up verification strips, one PNG per labelled crossing in crossings.csv:
# frames F-4..F+4, an 80x110 px window around (line x, feet y) scaled 2x, with a
# 1-px marker at the line (magenta inside the segment's y-extent, faint yellow
# outside it) and each tile labelled "ID frame". The middle tile is the
# labelled frame, so the feet should be on the marker there.
# The feet y is read from the "y~NNN" in the description; the ID is the first
# word of the description.
# Usage: sh verify.sh [crossings.csv] [outdir]
set -eu
CSV=${1:-$(dirname "$0")/crossings.csv}; OUT=${2:-/tmp/vt/ver}
VIDEO=/usr/share/doc/opencv-doc/examples/data/vtest.avi
FONT=/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf
mkdir -p "$OUT"
tail -n +2 "$CSV" | while IFS=, read -r line dir f amb desc; do
  id=${desc%% *}
  y=$(printf '%s\n' "$desc" | sed -n 's/.*y~\([0-9]*\).*/\1/p')
  x=300; y1=150; y2=340; [ "$line" = east ] && { x=560; y1=120; y2=440; }
  cx=$((x-40)); cy=$((y-90)); [ $cy -lt 0 ] && cy=0; [ $cy -gt 466 ] && cy=466
  s=$((f-4)); [ $s -lt 0 ] && s=0
  t=$((y1-cy)); [ $t -lt 0 ] && t=0; b=$((y2-cy)); [ $b -gt 110 ] && b=110
  h=$((b-t)); [ $h -lt 0 ] && h=0
  ffmpeg -nostdin -v error -y -threads 1 -i "$VIDEO" -vf "select='between(n\,$s\,$((s+8)))',crop=80:110:$cx:$cy,\
drawbox=x=40:y=0:w=1:h=110:color=yellow@0.4:t=fill,drawbox=x=40:y=$t:w=1:h=$h:color=magenta:t=fill,\
scale=160:220:flags=neighbor,drawtext=fontfile=$FONT:text='$id %{eif\:n+$s\:d}':x=2:y=2:fontsize=14:fontcolor=yellow:box=1:boxcolor=black@0.6,tile=9x1" \
    -fps_mode passthrough -frames:v 1 "$OUT/${line}_${f}_$id.png"
done
