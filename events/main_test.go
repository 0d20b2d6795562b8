package events

import (
	"flag"
	"io"
	"log/slog"
	"os"
	"testing"
)

// The sink logs every retry; tests provoke many on purpose. Show them only
// with -v.
func TestMain(m *testing.M) {
	flag.Parse()
	if !testing.Verbose() {
		slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil)))
	}
	os.Exit(m.Run())
}
