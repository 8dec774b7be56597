package cli

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/pprof"
)

// startProfiler serves net/http/pprof on a loopback address when
// CASHBELL_PPROF is set, to find out where an idle Cashbell spends its time
// and memory. Anything but loopback is refused.
func startProfiler(addr string, stderr io.Writer) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil || !isLoopbackHost(host) {
		fmt.Fprintf(stderr, "cashbell: CASHBELL_PPROF must be a loopback address such as 127.0.0.1:6060 (got %q)\n", addr)
		return
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	go func() { _ = http.ListenAndServe(addr, mux) }()
}

func isLoopbackHost(host string) bool {
	ip := net.ParseIP(host)
	return host == "localhost" || ip != nil && ip.IsLoopback()
}
