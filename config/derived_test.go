package config

import (
	"log/slog"
	"testing"
	"time"
)

func TestFirstFrameTime(t *testing.T) {
	if _, ok := (Camera{}).FirstFrameTime(); ok {
		t.Error("empty start_time must mean: use the file's modification time")
	}
	got, ok := Camera{StartTime: "2024-05-01T09:00:00+02:00"}.FirstFrameTime()
	if want := time.Date(2024, 5, 1, 7, 0, 0, 0, time.UTC); !ok || !got.Equal(want) {
		t.Errorf("got %v %v, want %v", got, ok, want)
	}
}

func TestStoreLocation(t *testing.T) {
	loc, err := Store{Timezone: "Europe/Berlin"}.Location()
	if err != nil {
		t.Fatal(err)
	}
	summer := time.Date(2024, 7, 1, 12, 0, 0, 0, loc)
	if _, off := summer.Zone(); off != 2*3600 {
		t.Errorf("Berlin summer offset %d, want 7200", off)
	}
	if _, err := (Store{Timezone: "Nowhere/City"}).Location(); err == nil {
		t.Error("unknown zone accepted")
	}
}

func TestSlogLevel(t *testing.T) {
	for in, want := range map[string]slog.Level{"debug": slog.LevelDebug, "info": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError} {
		if got := (Log{Level: in}).SlogLevel(); got != want {
			t.Errorf("%s: got %v", in, got)
		}
	}
}
