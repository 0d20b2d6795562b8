#!/bin/sh
# Full-resolution close-up sheet around a crossing candidate.
# Usage: sh zoom.sh LINEX FEETY FIRSTFRAME [STEP] [COLS] [ROWS] [OUT]
# Crops 200x300 (feet ~2/3 down) around (LINEX, FEETY) from frames FIRST,
# FIRST+STEP, ... of the annotated frames made by render.sh, each labelled
# with its 0-based decode index; COLSxROWS tiles.
set -eu
X=$1; Y=$2; F=$3; STEP=${4:-1}; C=${5:-8}; R=${6:-2}; OUT=${7:-/tmp/vt/z.png}
D=${VT:-/tmp/vt}
FONT=/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf
cx=$((X-100)); cy=$((Y-200)); [ $cy -lt 0 ] && cy=0; [ $cy -gt 276 ] && cy=276
ffmpeg -nostdin -v error -y -start_number "$F" -i "$D/full/f%04d.jpg" \
  -vf "select='not(mod(n\,$STEP))',crop=200:300:$cx:$cy,drawtext=fontfile=$FONT:text='%{eif\:n*$STEP+$F\:d}':x=4:y=4:fontsize=20:fontcolor=yellow:box=1:boxcolor=black@0.6,tile=${C}x${R}" \
  -frames:v 1 "$OUT"
