package config

import (
	"fmt"
	"log/slog"
	"time"

	// Shop PCs and slim container images often lack /usr/share/zoneinfo;
	// embedding the database keeps store.timezone working everywhere.
	_ "time/tzdata"
)

// Location loads the store's time zone.
func (s Store) Location() (*time.Location, error) {
	loc, err := time.LoadLocation(s.Timezone)
	if err != nil {
		return nil, fmt.Errorf("store timezone: %w", err)
	}
	return loc, nil
}

// FirstFrameTime is the configured wall time of a file's first frame; ok
// is false when start_time is empty (use the file's modification time).
func (c Camera) FirstFrameTime() (t time.Time, ok bool) {
	if c.StartTime == "" {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339, c.StartTime)
	return t, err == nil
}

// SlogLevel is log.level as a slog.Level; unknown names give Info.
func (l Log) SlogLevel() slog.Level {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(l.Level)); err != nil {
		return slog.LevelInfo
	}
	return lv
}
