#!/bin/sh
# Cuts the slit-scans made by render.sh into 100-frame chunks, scaled 4x in time
# and 2x in y, with a frame ruler every 10 frames and the line's y-extent marked
# (green horizontal lines). Usage: sh slitchunks.sh [outdir]
set -eu
OUT=${1:-/tmp/vt}
FONT=/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf
mkdir -p "$OUT/slit"
for line in west east; do
  if [ $line = west ]; then y1=$(( (150-100)*2+30 )); y2=$(( (340-100)*2+30 )); else y1=$(( (120-100)*2+30 )); y2=$(( (440-100)*2+30 )); fi
  for c in 0 1 2 3 4 5 6 7; do
    f0=$((c*100))
    w=200; [ $c = 7 ] && w=$(( (795-700)*2 ))
    F="crop=$w:380:$((c*200)):0,scale=$((w*4)):760:flags=neighbor,pad=$((w*4)):790:0:30:black"
    F="$F,drawbox=x=0:y=$y1:w=iw:h=1:color=lime:t=fill,drawbox=x=0:y=$y2:w=iw:h=1:color=lime:t=fill"
    k=0
    while [ $k -lt 10 ]; do
      fr=$((f0+k*10)); x=$((k*80))
      F="$F,drawbox=x=$x:y=0:w=1:h=790:color=yellow@0.5:t=fill,drawtext=fontfile=$FONT:text=$fr:x=$((x+2)):y=4:fontsize=18:fontcolor=yellow"
      k=$((k+1))
    done
    ffmpeg -v error -y -i "$OUT/slit_$line.png" -vf "$F" "$OUT/slit/${line}_$c.png"
  done
done
