package benchmarks

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// clockTick is the unit of utime and stime in /proc/<pid>/stat (USER_HZ,
// 100 on every Linux architecture Go supports).
const clockTick = 10 * time.Millisecond

// procSample is what the live benchmark reads from /proc at the start and
// the end of a measurement window.
type procSample struct {
	self time.Duration // this process's user+system CPU
	// ffmpeg is the user+system CPU of each ffmpeg child by pid. A publisher
	// that restarted has a new pid; only pids seen at both ends are compared.
	ffmpeg map[int]time.Duration
	// busy and total are the machine's non-idle and total CPU time from
	// /proc/stat, summed over cores.
	busy, total time.Duration
	load        string // /proc/loadavg's first three fields
}

func sampleProc() (procSample, error) {
	var s procSample
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return s, fmt.Errorf("getrusage: %w", err)
	}
	s.self = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	var err error
	if s.ffmpeg, err = ffmpegChildren(); err != nil {
		return s, err
	}
	if s.busy, s.total, err = machineCPU(); err != nil {
		return s, err
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(b)); len(f) >= 3 {
			s.load = strings.Join(f[:3], " ")
		}
	}
	return s, nil
}

// ffmpegChildren finds this process's ffmpeg children (the publishers) and
// their CPU time so far.
func ffmpegChildren() (map[int]time.Duration, error) {
	dirs, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil {
		return nil, err
	}
	self := os.Getpid()
	out := map[int]time.Duration{}
	for _, path := range dirs {
		b, err := os.ReadFile(path)
		if err != nil {
			continue // the process ended meanwhile
		}
		pid, comm, fields, ok := parseStat(b)
		if !ok || comm != "ffmpeg" || len(fields) < 13 {
			continue
		}
		// fields[0] is state; ppid, utime and stime are fields 4, 14, 15 of
		// the whole line.
		ppid, _ := strconv.Atoi(fields[1])
		if ppid != self {
			continue
		}
		ut, _ := strconv.ParseInt(fields[11], 10, 64)
		st, _ := strconv.ParseInt(fields[12], 10, 64)
		out[pid] = time.Duration(ut+st) * clockTick
	}
	return out, nil
}

// parseStat splits /proc/<pid>/stat: the command name is in parentheses and
// may itself contain spaces and parentheses, so it ends at the last ')'.
func parseStat(b []byte) (pid int, comm string, rest []string, ok bool) {
	open, close := bytes.IndexByte(b, '('), bytes.LastIndexByte(b, ')')
	if open < 1 || close < open {
		return 0, "", nil, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b[:open])))
	if err != nil {
		return 0, "", nil, false
	}
	return pid, string(b[open+1 : close]), strings.Fields(string(b[close+1:])), true
}

// machineCPU sums the "cpu" line of /proc/stat: busy excludes idle and
// iowait.
func machineCPU() (busy, total time.Duration, err error) {
	f, err := os.Open("/proc/stat")
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 6 || fields[0] != "cpu" {
			continue
		}
		// user nice system idle iowait irq softirq steal (guest time is
		// already counted in user).
		for i, v := range fields[1:min(len(fields), 9)] {
			n, _ := strconv.ParseInt(v, 10, 64)
			d := time.Duration(n) * clockTick
			total += d
			if i != 3 && i != 4 {
				busy += d
			}
		}
		return busy, total, nil
	}
	return 0, 0, fmt.Errorf("/proc/stat: no cpu line")
}

// memory returns this process's resident set size and its peak (VmRSS,
// VmHWM) in bytes.
func memory() (rss, hwm int64, err error) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, 0, err
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		name, val, ok := strings.Cut(line, ":")
		if !ok || (name != "VmRSS" && name != "VmHWM") {
			continue
		}
		f := strings.Fields(val)
		if len(f) != 2 || f[1] != "kB" {
			return 0, 0, fmt.Errorf("/proc/self/status: unexpected %s line %q", name, line)
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("/proc/self/status: %s: %w", name, err)
		}
		if name == "VmRSS" {
			rss = kb << 10
		} else {
			hwm = kb << 10
		}
	}
	return rss, hwm, nil
}

// resetPeakRSS makes VmHWM start again from the current RSS, so each row
// of the benchmark reports its own peak rather than an earlier row's.
func resetPeakRSS() error {
	return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}

// machineName describes the CPU for the results file.
func machineName() string {
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.SplitSeq(string(b), "\n") {
			if name, val, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(name) == "model name" {
				model = strings.TrimSpace(val)
				break
			}
		}
	}
	kernel := ""
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		kernel = ", Linux " + strings.TrimSpace(string(b))
	}
	mem := ""
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		if f := strings.Fields(strings.SplitN(string(b), "\n", 2)[0]); len(f) == 3 {
			if kb, err := strconv.ParseInt(f[1], 10, 64); err == nil {
				mem = fmt.Sprintf(", %.1f GiB RAM", float64(kb)/(1<<20))
			}
		}
	}
	return model + mem + kernel
}
