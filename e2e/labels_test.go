package e2e

import (
	"encoding/csv"
	"os"
	"strconv"
	"testing"
)

// label is one hand-labelled crossing of testdata/vtest/crossings.csv.
type label struct {
	Line, Direction string
	Frame           int64
	Ambiguous       bool
	Description     string
}

func readLabels(t *testing.T) []label {
	t.Helper()
	f, err := os.Open("../testdata/vtest/crossings.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var out []label
	for i, r := range rows[1:] {
		fr, err := strconv.ParseInt(r[2], 10, 64)
		if err != nil {
			t.Fatalf("crossings.csv row %d: %v", i+2, err)
		}
		out = append(out, label{Line: r[0], Direction: r[1], Frame: fr, Ambiguous: r[3] == "true", Description: r[4]})
	}
	return out
}
