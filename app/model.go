package app

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/storesight/storesight/config"
	"github.com/storesight/storesight/detectors"
	"github.com/storesight/storesight/models"
)

// openDetectors finds the configured model, installs it into model.dir when
// it is missing there (from modelSource, else its pinned source URL), checks
// its sha256, and opens model.sessions ONNX Runtime sessions for it. ctx
// cancels a download.
func openDetectors(ctx context.Context, cfg *config.Config, modelSource string, log *slog.Logger) ([]detectors.Detector, models.Manifest, error) {
	m, err := models.Lookup(cfg.Model.Name)
	if err != nil {
		return nil, m, fmt.Errorf("model.name %q: %w", cfg.Model.Name, err)
	}
	path := filepath.Join(cfg.Model.Dir, m.File)
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		if modelSource == "" {
			modelSource = models.DefaultDir()
		}
		if path, err = models.InstallWith(ctx, DownloadClient(), m, modelSource, cfg.Model.Dir); err != nil {
			where := "model.dir " + cfg.Model.Dir
			if _, serr := os.Stat(filepath.Join(modelSource, m.File)); errors.Is(serr, fs.ErrNotExist) {
				where += " nor in " + modelSource
			}
			return nil, m, fmt.Errorf("model %s: model file %s not found in %s, and installing it failed (copy the file there or run `storesight models install`): %w",
				m.Name, m.File, where, err)
		}
	} else if err := models.Verify(m, path); err != nil {
		// Verify's error names the model already.
		return nil, m, fmt.Errorf("%w (run `storesight models install` to reinstall it)", err)
	}
	classes, err := m.ClassIndices(cfg.Model.Classes)
	if err != nil {
		return nil, m, fmt.Errorf("model.classes: %w", err)
	}
	if err := detectors.InitRuntime(""); err != nil {
		return nil, m, err
	}
	sessions := max(cfg.Model.Sessions, 1)
	var ds []detectors.Detector
	for range sessions {
		d, err := detectors.NewONNX(m, path, detectors.Options{
			Threads:        cfg.Model.Threads,
			ScoreThreshold: float32(cfg.Model.ScoreThreshold),
			NMSThreshold:   float32(cfg.Model.NMSThreshold),
			Classes:        classes,
			MaxBatch:       cfg.Model.MaxBatch,
			Provider:       cfg.Model.Provider,
			DeviceID:       cfg.Model.DeviceID,
			Log:            log,
		})
		if err != nil {
			for _, d := range ds {
				d.Close()
			}
			return nil, m, fmt.Errorf("model %s: %w", m.Name, err)
		}
		ds = append(ds, d)
	}
	return ds, m, nil
}
