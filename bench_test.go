package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cashbell/cashbell/internal/cli"
	"github.com/cashbell/cashbell/internal/stripesim"
)

// procStats reads a process's CPU time (user+system) and resident memory.
func procStats(pid int) (cpu time.Duration, rssKB int, err error) {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, err
	}
	// Fields after the command name, which may hold spaces: ") S ppid ...".
	fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+2:]))
	utime, _ := strconv.Atoi(fields[11])
	stime, _ := strconv.Atoi(fields[12])
	cpu = time.Duration(utime+stime) * time.Second / 100 // USER_HZ is 100 on Linux
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			rssKB, _ = strconv.Atoi(strings.Fields(v)[0])
		}
	}
	return cpu, rssKB, nil
}

// idleFigures runs the binary with ten accounts at the default interval and
// measures it over window after warm-up.
func idleFigures(b *testing.B, d *desktop, bin string, args []string, warmup, window time.Duration) (time.Duration, int) {
	cmd := exec.Command(bin, args...)
	cmd.Env = d.env
	var logs bytes.Buffer
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() { _ = cmd.Process.Signal(os.Interrupt); _ = cmd.Wait() }()
	time.Sleep(warmup)
	cpu0, _, err := procStats(cmd.Process.Pid)
	if err != nil {
		b.Fatalf("%v\n%s", err, logs.String())
	}
	time.Sleep(window)
	if os.Getenv("CASHBELL_IDLE_SMAPS") != "" {
		rollup, _ := os.ReadFile(fmt.Sprintf("/proc/%d/smaps_rollup", cmd.Process.Pid))
		fmt.Printf("%s", rollup)
	}
	cpu1, rss, err := procStats(cmd.Process.Pid)
	if err != nil {
		b.Fatalf("%v\n%s", err, logs.String())
	}
	return cpu1 - cpu0, rss
}

// BenchmarkIdleResources measures an idle Cashbell watching ten accounts at
// the default 15 s interval: RSS and CPU seconds over 60 s, headless and GUI.
func BenchmarkIdleResources(b *testing.B) {
	window := 60 * time.Second
	if v := os.Getenv("CASHBELL_IDLE_WINDOW"); v != "" {
		window, _ = time.ParseDuration(v)
	}
	d := startDesktop(b)
	bin := buildBinary(b)
	headlessBin := buildBinary(b, "-tags", "nogui")
	sim := stripesim.New(stripesim.Options{}).Start()
	defer sim.Close()
	d.env = append(d.env, "CASHBELL_API_BASE="+sim.URL)
	getenv := func(k string) string {
		for _, kv := range d.env {
			if v, ok := strings.CutPrefix(kv, k+"="); ok {
				return v
			}
		}
		return ""
	}
	for i := range 10 {
		id := sim.CreateAccount(stripesim.AccountSpec{DisplayName: fmt.Sprintf("Shop %02d", i)})
		g := sim.Generator(id, false, uint64(i))
		for range 60 {
			g.Random()
		}
		key := sim.NewKey(id, false, stripesim.Restricted, stripesim.AllPermissions...)
		var errOut bytes.Buffer
		if code := cli.Main(context.Background(), cli.Env{Args: []string{"accounts", "add"}, Stdin: strings.NewReader(key),
			Stdout: &bytes.Buffer{}, Stderr: &errOut, Getenv: getenv}); code != 0 {
			b.Fatal(errOut.String())
		}
	}
	b.ResetTimer()
	type figure struct {
		name            string
		cpu             time.Duration
		rss             int
		rssBudget       int
		cpuBudgetPerMin time.Duration
	}
	var figs []figure
	cpu, rss := idleFigures(b, d, headlessBin, []string{"run", "--headless"}, 20*time.Second, window)
	figs = append(figs, figure{"headless", cpu, rss, 30 * 1024, 300 * time.Millisecond})
	cpu, rss = idleFigures(b, d, bin, []string{"run", "--headless"}, 20*time.Second, window)
	figs = append(figs, figure{"headless, GUI build", cpu, rss, 30 * 1024, 300 * time.Millisecond})
	if os.Getenv("CASHBELL_IDLE_ONLY") != "headless" {
		cpu, rss = idleFigures(b, d, bin, nil, 20*time.Second, window)
		figs = append(figs, figure{"GUI (Xvfb)", cpu, rss, 90 * 1024, time.Second})
	}
	b.StopTimer()
	for _, f := range figs {
		perMin := time.Duration(float64(f.cpu) * float64(time.Minute) / float64(window))
		verdict := func(ok bool) string {
			if ok {
				return "within budget"
			}
			return "OVER BUDGET"
		}
		fmt.Printf("idle %-20s 10 accounts, 15s interval: RSS %5.1f MB (budget %d MB, %s); CPU %.2f s/min over %s (budget %.1f s/min, %s)\n",
			f.name, float64(f.rss)/1024, f.rssBudget/1024, verdict(f.rss <= f.rssBudget),
			perMin.Seconds(), window, f.cpuBudgetPerMin.Seconds(), verdict(perMin <= f.cpuBudgetPerMin))
		unit := strings.NewReplacer(" ", "-", ",", "", "(", "", ")", "").Replace(f.name)
		b.ReportMetric(float64(f.rss)/1024, unit+"-RSS-MB")
		b.ReportMetric(perMin.Seconds(), unit+"-CPU-s/min")
	}
}
