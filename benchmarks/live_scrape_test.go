package benchmarks

import (
	"bufio"
	"context"
	"fmt"
	"math"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// scrape is one read of the product's /metrics endpoint, reduced to what
// the live benchmark needs: plain series summed over their labels, and
// histograms summed over cameras.
type scrape struct {
	values map[string]float64             // series name -> sum over label sets
	hists  map[string]map[float64]float64 // histogram name -> upper bound -> cumulative count
}

var leLabel = regexp.MustCompile(`le="([^"]+)"`)

// scrapeMetrics reads the Prometheus text exposition at addr. It parses the
// text format itself (name{labels} value lines) because the benchmark only
// needs sums and buckets, and that format is stable.
func scrapeMetrics(ctx context.Context, addr string) (scrape, error) {
	s := scrape{values: map[string]float64{}, hists: map[string]map[float64]float64{}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/metrics", nil)
	if err != nil {
		return s, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return s, fmt.Errorf("scrape %s: %w", addr, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return s, fmt.Errorf("scrape %s: %s", addr, resp.Status)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		sp := strings.LastIndexByte(line, ' ')
		if sp < 0 {
			continue
		}
		v, err := strconv.ParseFloat(line[sp+1:], 64)
		if err != nil {
			continue
		}
		series := line[:sp]
		name, labels, _ := strings.Cut(series, "{")
		if hist, ok := strings.CutSuffix(name, "_bucket"); ok {
			m := leLabel.FindStringSubmatch(labels)
			if m == nil {
				continue
			}
			le, err := strconv.ParseFloat(m[1], 64) // "+Inf" parses to +Inf
			if err != nil {
				continue
			}
			if s.hists[hist] == nil {
				s.hists[hist] = map[float64]float64{}
			}
			s.hists[hist][le] += v
			continue
		}
		s.values[name] += v
	}
	if err := sc.Err(); err != nil {
		return s, fmt.Errorf("scrape %s: %w", addr, err)
	}
	return s, nil
}

// histDelta is a histogram's cumulative bucket counts between two scrapes.
func histDelta(end, start scrape, name string) map[float64]float64 {
	d := map[float64]float64{}
	for le, n := range end.hists[name] {
		d[le] = n - start.hists[name][le]
	}
	return d
}

// histQuantile estimates the q-quantile from cumulative bucket counts the
// way PromQL's histogram_quantile does: linear interpolation inside the
// bucket the rank falls in, the lowest bucket starting at 0, and the
// largest finite bound when the rank falls in the +Inf bucket. ok is false
// for an empty histogram.
func histQuantile(q float64, buckets map[float64]float64) (v time.Duration, ok bool) {
	les := make([]float64, 0, len(buckets))
	for le := range buckets {
		les = append(les, le)
	}
	sort.Float64s(les)
	if len(les) == 0 || !math.IsInf(les[len(les)-1], 1) {
		return 0, false
	}
	total := buckets[les[len(les)-1]]
	if total <= 0 {
		return 0, false
	}
	rank := q * total
	prevLE, prevN := 0.0, 0.0
	for _, le := range les {
		n := buckets[le]
		if n >= rank {
			if math.IsInf(le, 1) {
				return seconds(prevLE), true
			}
			if n == prevN {
				return seconds(le), true
			}
			return seconds(prevLE + (le-prevLE)*(rank-prevN)/(n-prevN)), true
		}
		prevLE, prevN = le, n
	}
	return seconds(prevLE), true
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
