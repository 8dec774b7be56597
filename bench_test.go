package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cashbell/cashbell/internal/testsupport/testproc"
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
// measures it over window after warm-up; before is what a user did first.
func idleFigures(b *testing.B, d *desktop, bin string, args []string, before func(pid int), warmup, window time.Duration) (time.Duration, int) {
	cmd := exec.Command(bin, args...)
	cmd.Env = d.env
	var logs bytes.Buffer
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() { _ = testproc.Stop(b, cmd, os.Interrupt, 20*time.Second) }()
	if before != nil {
		before(cmd.Process.Pid)
	}
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
	// The UI process, while one runs, counts too.
	children, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", cmd.Process.Pid, cmd.Process.Pid))
	for _, f := range strings.Fields(string(children)) {
		child, _ := strconv.Atoi(f)
		if _, childRSS, err := procStats(child); err == nil {
			rss += childRSS
		}
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
	d.addAccounts(b, 10, 60)
	if addr := os.Getenv("CASHBELL_PPROF"); addr != "" { // to profile the processes measured
		d.env = append(d.env, "CASHBELL_PPROF="+addr)
	}
	b.ResetTimer()
	type figure struct {
		name            string
		cpu             time.Duration
		rss             int
		rssBudget       int           // 0: shown for reference
		cpuBudgetPerMin time.Duration // 0: shown for reference
		note            string
	}
	var figs []figure
	measure := func(f figure, bin string, args []string, before func(int)) {
		warmup := 20 * time.Second
		f.cpu, f.rss = idleFigures(b, d, bin, args, before, warmup, window)
		figs = append(figs, f)
	}
	only := os.Getenv("CASHBELL_IDLE_ONLY") // headless or gui, to measure one kind
	if only != "gui" {
		measure(figure{name: "headless", rssBudget: 30 * 1024, cpuBudgetPerMin: 300 * time.Millisecond,
			note: "make build-headless"}, headlessBin, []string{"run", "--headless"}, nil)
		measure(figure{name: "headless, GUI binary",
			note: "for reference: the same work, plus the pages of a binary three times larger"}, bin, []string{"run", "--headless"}, nil)
	}
	if only != "headless" {
		measure(figure{name: "GUI (Xvfb)", rssBudget: 60 * 1024, cpuBudgetPerMin: time.Second,
			note: "tray icon only"}, bin, nil, nil)
		measure(figure{name: "GUI, a window open",
			note: "for reference: Preferences open, the tray and the UI process together"}, bin, nil, func(pid int) {
			d.click(b, pid, "Preferences…")
			d.waitVisible(b, "Cashbell Preferences", true)
		})
		measure(figure{name: "GUI after a window", rssBudget: 60 * 1024, cpuBudgetPerMin: time.Second,
			note: "Preferences opened from the tray, then closed with Ctrl+W: the UI process and its GL driver are gone"}, bin, nil, func(pid int) {
			d.click(b, pid, "Preferences…")
			d.waitVisible(b, "Cashbell Preferences", true)
			time.Sleep(2 * time.Second) // let it draw
			d.xdotool(b, "windowfocus", "--sync", d.windowID(b, "Cashbell Preferences"))
			d.xdotool(b, "key", "ctrl+w")
			d.waitVisible(b, "Cashbell Preferences", false)
		})
	}
	b.StopTimer()
	for _, f := range figs {
		perMin := time.Duration(float64(f.cpu) * float64(time.Minute) / float64(window))
		judge := func(ok bool, budget string) string {
			switch {
			case budget == "":
				return "no budget"
			case ok:
				return "budget " + budget + ", within"
			}
			return "budget " + budget + ", OVER BUDGET"
		}
		rssBudget, cpuBudget := "", ""
		if f.rssBudget > 0 {
			rssBudget = fmt.Sprintf("%d MB", f.rssBudget/1024)
			cpuBudget = fmt.Sprintf("%.1f s/min", f.cpuBudgetPerMin.Seconds())
		}
		fmt.Printf("idle %-21s RSS %5.1f MB (%s); CPU %.2f s/min over %s (%s) — %s\n",
			f.name, float64(f.rss)/1024, judge(f.rss <= f.rssBudget, rssBudget),
			perMin.Seconds(), window, judge(perMin <= f.cpuBudgetPerMin, cpuBudget), f.note)
		unit := strings.NewReplacer(" ", "-", ",", "", "(", "", ")", "").Replace(f.name)
		b.ReportMetric(float64(f.rss)/1024, unit+"-RSS-MB")
		b.ReportMetric(perMin.Seconds(), unit+"-CPU-s/min")
	}
}
