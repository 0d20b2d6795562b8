package main

import (
	"io"
	"log/slog"

	"github.com/storesight/storesight/config"
)

// newLogger builds the process's logger and makes it slog's default too, so
// packages that log through the default (the models download notice) follow
// log.format and log.level instead of printing in the log package's format.
func newLogger(c config.Log, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: c.SlogLevel()}
	var l *slog.Logger
	if c.Format == "json" {
		l = slog.New(slog.NewJSONHandler(w, opts))
	} else {
		l = slog.New(slog.NewTextHandler(w, opts))
	}
	slog.SetDefault(l)
	return l
}
