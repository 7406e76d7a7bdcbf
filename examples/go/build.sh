#!/bin/sh
# Builds the example offline against Debian's packaged go-systemd (golang-github-coreos-go-systemd-dev):
# GOPATH mode, no module download.
set -eu
cd "$(dirname "$0")"
out=${1:-./server}
GO111MODULE=off GOPATH=/usr/share/gocode GOCACHE=${GOCACHE:-/tmp/baton-go-cache} GOFLAGS= go build -o "$out" main.go
