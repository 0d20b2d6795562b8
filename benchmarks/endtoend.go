package benchmarks

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/storesight/storesight/accuracy"
	"github.com/storesight/storesight/models"
)

// measureAccuracy evaluates one model on the labelled sequence with the
// production pipeline. The run's analysed frames over its wall time is the
// end-to-end speed, so accuracy and speed come from the same frames and no
// second pass over the video is needed.
func measureAccuracy(ctx context.Context, seq *accuracy.Sequence, m models.Manifest, dir string, threads int, provider string, log *slog.Logger) (Accuracy, error) {
	run, err := accuracy.Evaluate(ctx, seq, accuracy.RunOptions{
		Model: m.Name, ModelDir: dir, Threads: threads, Provider: provider, Log: log,
	})
	if err != nil {
		return Accuracy{}, fmt.Errorf("accuracy of %s on %s: %w", m.Name, seq.Dir, err)
	}
	a := Accuracy{
		Model: m.Name, Family: string(m.Family), Threads: threads, Provider: run.Provider, Threshold: run.ScoreThreshold,
		Frames: run.Frames, Seconds: run.Elapsed.Seconds(),
		DetRecall: run.Detection.Recall, DetPrecision: run.Detection.Precision, AP50: run.Detection.AP50,
		MOTA: run.Tracking.MOTA, IDF1: run.Tracking.IDF1, IDSW: run.Tracking.IDSW,
		CountF1: run.Counting.Total.F1, CountGT: run.Counting.Total.GT, CountPred: run.Counting.Total.Pred,
	}
	if a.Seconds > 0 {
		a.FPS = float64(a.Frames) / a.Seconds
	}
	return a, nil
}
