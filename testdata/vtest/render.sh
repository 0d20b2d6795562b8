#!/bin/sh
# Renders review material for the vtest.avi line-crossing ground truth.
# Usage: sh render.sh [outdir]   (default /tmp/vt)
# Produces:
#   $OUT/full/fNNNN.jpg   every frame, full size, both lines + decode index drawn
#   $OUT/sheet/sNN.jpg    contact sheets: every 2nd frame, crop x180-680 y60-480
#                         (both lines), scaled 0.75, 4x3 tiles (12 frames = 2.4 s per sheet)
#   $OUT/slit_west.png, $OUT/slit_east.png  slit-scans: the pixel column at the
#                         line (y 100..480) for every frame, left to right = time,
#                         used to find every body that touches the line.
set -eu
VIDEO=/usr/share/doc/opencv-doc/examples/data/vtest.avi
OUT=${1:-/tmp/vt}
FONT=/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf
mkdir -p "$OUT/full" "$OUT/sheet"

# Lines: west x=300 y150..340 (red), east x=560 y120..440 (blue); thin dotted
# grey extensions show where a crossing would be outside the segment.
LINES="drawbox=x=300:y=0:w=1:h=576:color=white@0.35:t=fill,\
drawbox=x=560:y=0:w=1:h=576:color=white@0.35:t=fill,\
drawbox=x=299:y=150:w=3:h=191:color=red@0.9:t=fill,\
drawbox=x=290:y=150:w=21:h=2:color=red:t=fill,drawbox=x=290:y=339:w=21:h=2:color=red:t=fill,\
drawbox=x=559:y=120:w=3:h=321:color=blue@0.9:t=fill,\
drawbox=x=550:y=120:w=21:h=2:color=blue:t=fill,drawbox=x=550:y=439:w=21:h=2:color=blue:t=fill"
NUM="drawtext=fontfile=$FONT:text='%{n}':x=190:y=66:fontsize=40:fontcolor=yellow:box=1:boxcolor=black@0.6"

# 1. all frames, full size (n = 0-based decode index)
ffmpeg -v error -y -threads 1 -i "$VIDEO" -vf "$LINES,$NUM" -q:v 3 -start_number 0 "$OUT/full/f%04d.jpg"

# 2. contact sheets of every 2nd frame
ffmpeg -v error -y -threads 1 -i "$VIDEO" \
  -vf "$LINES,$NUM,select='not(mod(n\,2))',crop=500:420:180:60,scale=375:315,tile=4x3" \
  -fps_mode passthrough -q:v 3 -start_number 0 "$OUT/sheet/s%02d.jpg"

# 3. slit-scans (3-pixel-wide columns centred on each line, y 100..480)
ffmpeg -v error -y -threads 1 -i "$VIDEO" -vf "crop=3:380:299:100,tile=795x1" -frames:v 1 "$OUT/slit_west.png"
ffmpeg -v error -y -threads 1 -i "$VIDEO" -vf "crop=3:380:559:100,tile=795x1" -frames:v 1 "$OUT/slit_east.png"
