package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"text/tabwriter"

	"github.com/storesight/storesight/app"
	"github.com/storesight/storesight/models"
)

func cmdModels(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "Usage: storesight models list|info NAME|verify [NAME...]|install [NAME...]")
		return exitError{2}
	}
	fs := flag.NewFlagSet("models "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("dir", ".deps/models", "directory of installed models")
	to := fs.String("to", ".deps/models", "install: destination directory")
	from := fs.String("from", "", "install: source directory (default $STORESIGHT_MODEL_DIR, else ../shared/models); missing files are downloaded from the manifest's source URL")
	if err := fs.Parse(args[1:]); err != nil {
		return exitError{2}
	}
	pick := func() ([]models.Manifest, error) {
		if fs.NArg() == 0 {
			return models.All(), nil
		}
		var ms []models.Manifest
		for _, n := range fs.Args() {
			m, err := models.Lookup(n)
			if err != nil {
				return nil, err
			}
			ms = append(ms, m)
		}
		return ms, nil
	}
	switch args[0] {
	case "list":
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tFAMILY\tINPUT\tLICENSE\tINSTALLED")
		for _, m := range models.All() {
			inst := "no"
			if models.Verify(m, filepath.Join(*dir, m.File)) == nil {
				inst = "yes"
			}
			size := "from model"
			if m.Input.Size > 0 {
				size = fmt.Sprintf("%dx%d", m.Input.Size, m.Input.Size)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", m.Name, m.Family, size, m.License, inst)
		}
		return tw.Flush()
	case "info":
		if fs.NArg() != 1 {
			return errors.New("models info: give one model name")
		}
		m, err := models.Lookup(fs.Arg(0))
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "name:       %s\nfamily:     %s\nfile:       %s (%d bytes)\nsha256:     %s\nlicense:    %s\nsource:     %s\ninput:      size %d, %s, scale %g, mean %v, std %v, letterbox %s, pad %d\nclasses:    %d\nthresholds: score %.2f, nms %.2f\nnotes:      %s\n",
			m.Name, m.Family, m.File, m.Size, m.SHA256, m.License, m.SourceURL,
			m.Input.Size, m.Input.ChannelOrder, m.Input.Scale, m.Input.Mean, m.Input.Std, m.Input.Letterbox, m.Input.PadValue,
			len(m.Classes), m.ScoreThreshold, m.NMSThreshold, m.Notes)
		return nil
	case "verify":
		ms, err := pick()
		if err != nil {
			return err
		}
		var errs []error
		for _, m := range ms {
			if err := models.Verify(m, filepath.Join(*dir, m.File)); err != nil {
				errs = append(errs, err)
				fmt.Fprintf(stdout, "FAIL %s: %v\n", m.Name, err)
				continue
			}
			fmt.Fprintf(stdout, "ok   %s\n", m.Name)
		}
		return errors.Join(errs...)
	case "install":
		ms, err := pick()
		if err != nil {
			return err
		}
		src := *from
		if src == "" {
			src = models.DefaultDir()
		}
		for _, m := range ms {
			path, err := models.InstallWith(context.Background(), app.DownloadClient(), m, src, *to)
			if err != nil {
				return fmt.Errorf("install %s: %w", m.Name, err)
			}
			fmt.Fprintf(stdout, "installed %s -> %s (sha256 ok)\n", m.Name, path)
		}
		return nil
	default:
		return fmt.Errorf("models: unknown subcommand %q (want list, info, verify or install)", args[0])
	}
}
