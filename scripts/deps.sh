#!/usr/bin/env bash
# Installs what storesight needs on a fresh Debian 12 machine. Idempotent:
# each step checks before it acts, so `make deps` is cheap when all is there.
set -euo pipefail
cd "$(dirname "$0")/.."

ORT_VERSION=${ORT_VERSION:-1.24.1}
LIB_DIR=${STORESIGHT_LIB_DIR:-$PWD/.deps/lib}

need_apt=()
for p in libopencv-dev opencv-doc libavcodec-dev libavformat-dev libavutil-dev libswscale-dev ffmpeg pkg-config gcc g++; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need_apt+=("$p")
done
# npm may come with a nodejs package that is not Debian's: ask for the command.
command -v npm >/dev/null 2>&1 || need_apt+=(npm)
if [ ${#need_apt[@]} -gt 0 ]; then
	echo "deps: installing Debian packages: ${need_apt[*]}"
	SUDO=""
	[ "$(id -u)" -eq 0 ] || SUDO=sudo
	$SUDO apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

# ONNX Runtime: Debian has none; the onnxruntime-node npm package ships the
# shared library. npm pack only downloads the tarball: no install scripts run.
if [ ! -f "$LIB_DIR/libonnxruntime.so.$ORT_VERSION" ]; then
	echo "deps: fetching libonnxruntime $ORT_VERSION from the onnxruntime-node npm package"
	mkdir -p "$LIB_DIR"
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	(cd "$tmp" && npm pack --silent "onnxruntime-node@$ORT_VERSION" >/dev/null)
	tar -xzf "$tmp"/onnxruntime-node-*.tgz -C "$tmp" package/bin/napi-v6/linux/x64/libonnxruntime.so.1
	cp "$tmp/package/bin/napi-v6/linux/x64/libonnxruntime.so.1" "$LIB_DIR/libonnxruntime.so.$ORT_VERSION"
	ln -sf "libonnxruntime.so.$ORT_VERSION" "$LIB_DIR/libonnxruntime.so"
fi
echo "deps: ok (onnxruntime at $LIB_DIR/libonnxruntime.so)"
