// Command bell writes assets/bell.wav, the sound of a sale: a short, soft
// bell made for Cashbell from a few decaying partials (a struck bell's
// inharmonic ratios), so that its licence is Cashbell's own (CC0-1.0,
// assets/README.md). Run it from the repository root: go run ./scripts/bell
package main

import (
	"encoding/binary"
	"log"
	"math"
	"os"
)

const (
	rate     = 22050 // Hz: plenty for a bell, half the size of 44.1 kHz
	duration = 0.7   // seconds
)

func main() {
	// Partials of a small bell around E6, with the hum and the strike.
	partials := []struct{ ratio, amp, decay float64 }{
		{0.5, 0.10, 3}, {1, 0.50, 5}, {2.0, 0.22, 7}, {2.76, 0.14, 9}, {5.40, 0.06, 14},
	}
	const f0 = 1318.51
	n := int(rate * duration)
	samples := make([]int16, n)
	for i := range samples {
		t := float64(i) / rate
		attack := math.Min(1, t/0.004) // no click at the start
		var v float64
		for _, p := range partials {
			v += p.amp * math.Exp(-p.decay*t) * math.Sin(2*math.Pi*f0*p.ratio*t)
		}
		samples[i] = int16(math.Round(v * attack * 0.6 * math.MaxInt16))
	}
	f, err := os.Create("assets/bell.wav")
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	data := uint32(2 * n)
	header := []any{[4]byte{'R', 'I', 'F', 'F'}, 36 + data, [4]byte{'W', 'A', 'V', 'E'},
		[4]byte{'f', 'm', 't', ' '}, uint32(16), uint16(1), uint16(1), uint32(rate), uint32(rate * 2), uint16(2), uint16(16),
		[4]byte{'d', 'a', 't', 'a'}, data, samples}
	for _, v := range header {
		if err := binary.Write(f, binary.LittleEndian, v); err != nil {
			log.Fatal(err)
		}
	}
}
