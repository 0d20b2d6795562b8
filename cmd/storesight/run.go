package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/storesight/storesight/app"
	"github.com/storesight/storesight/config"
)

func cmdRun(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "storesight.yml", "configuration file")
	if err := fs.Parse(args); err != nil {
		return exitError{2}
	}
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		return err
	}
	log := newLogger(cfg.Log, stderr)
	// The first SIGINT/SIGTERM stops analysis and flushes Kafka; a second
	// one kills the process the default way.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	a, err := app.New(ctx, cfg, app.Options{Log: log, Console: stdout})
	if err != nil {
		return err
	}
	log.Info("running", "store", cfg.Store.ID, "cameras", len(cfg.Cameras), "kafka", a.KafkaBrokers())
	go func() {
		<-ctx.Done()
		stop()
	}()
	sum, err := a.Run(ctx)
	printTotals(stdout, sum)
	if sum != nil && sum.Kafka != nil {
		fmt.Fprintf(stdout, "kafka: %d events published, %d failed, %d spilled to disk\n",
			sum.Kafka.Published, sum.EventsFailed, sum.Kafka.Spilled)
	}
	return err
}

func printTotals(w io.Writer, sum *app.Summary) {
	if sum == nil {
		return
	}
	for _, c := range sum.Cameras {
		st := c.Stats
		fmt.Fprintf(w, "camera %s: %d frames decoded, %d analysed, %d skipped by fps, %d without motion, %d dropped, %d errors\n",
			c.ID, st.Decoded, st.Analysed, st.Sampled, st.Gated, st.Dropped, st.Errors)
		if ls := c.Live; ls != nil {
			fmt.Fprintf(w, "  live: %d pictures decoded, %d decode errors, %d dropped at source, %d reconnects\n",
				ls.Decoded, ls.DecodeErrors, ls.Dropped, ls.Reconnects)
		}
		for _, l := range c.Lines {
			t := c.Totals[l.Name]
			fmt.Fprintf(w, "  line %-12s %s=%d %s=%d\n", l.Name, l.Forward, t[l.Forward], l.Backward, t[l.Backward])
		}
	}
	if al := sum.Alerts; al != nil {
		fmt.Fprintf(w, "alerts: %d raised, %d updated, %d resolved, %d acknowledged, %d false alarms, %d still open\n",
			al.Steps["raised"], al.Steps["updated"], al.Steps["resolved"], al.Steps["acknowledged"], al.Steps["false_alarm"], len(al.Active))
		if s := al.SMS; s != nil {
			fmt.Fprintf(w, "sms: %d sent, %d dry run, %d failed, %d retries, %d duplicates avoided, suppressed %+v\n",
				s.Sent, s.DryRun, s.Failed, s.Retries, s.Duplicates, s.Suppressed)
		}
	}
	if p := sum.POS; p != nil {
		c := p.Checks
		fmt.Fprintf(w, "pos: %d transactions read, %d invalid (dead-lettered); %d checked: %d no customer, %d customer present, %d without video\n",
			p.Consumer.Received, p.Consumer.Invalid, c.Checked, c.NoCustomer, c.CustomerPresent, c.NoVideo)
		if p.Skew.Samples > 0 {
			fmt.Fprintf(w, "pos: transactions arrive %s after their POS timestamps (median of %d)\n", p.Skew.Median.Round(time.Millisecond), p.Skew.Samples)
		}
	}
	if an := sum.Analytics; an != nil {
		fmt.Fprintf(w, "analytics: %d facts counted, %d not counted again, %d risk and conversion events published\n",
			an.FactsAdded, an.NotCounted, an.Published)
	}
	if d := sum.Detector; d.Runs > 0 && sum.AnalysisDuration > 0 {
		fmt.Fprintf(w, "detector: %d frames in %d runs, %.0f%% busy over %d session(s)\n", d.Frames, d.Runs,
			100*d.Busy.Seconds()/(sum.AnalysisDuration.Seconds()*float64(d.Sessions)), d.Sessions)
	}
}
