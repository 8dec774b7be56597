package notifier

import (
	"cmp"
	"fmt"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/bojanz/currency"

	"github.com/cashbell/cashbell/internal/safetext"
)

// minorDigits is Stripe's own list of currencies whose minor unit is not the
// hundredth. It differs from ISO 4217 for a few currencies (Stripe counts ISK
// and UGX differently), so Stripe's list decides where the decimal point goes.
var minorDigits = map[string]int{
	"BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "JPY": 0, "KMF": 0, "KRW": 0, "MGA": 0,
	"PYG": 0, "RWF": 0, "UGX": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
	"BHD": 3, "JOD": 3, "KWD": 3, "OMR": 3, "TND": 3,
}

// Money formats Stripe amounts for one locale with CLDR data.
type Money struct {
	formatter *currency.Formatter
}

// NewMoney returns a formatter for a locale such as "en-US" or "fr_FR.UTF-8".
// An empty locale is read from the environment (LC_ALL, LC_MONETARY, LANG).
func NewMoney(locale string) *Money {
	if locale == "" {
		for _, env := range []string{"LC_ALL", "LC_MONETARY", "LANG"} {
			if v := os.Getenv(env); v != "" && v != "C" && v != "POSIX" && !strings.HasPrefix(v, "C.") {
				locale = v
				break
			}
		}
	}
	locale, _, _ = strings.Cut(locale, ".")
	locale, _, _ = strings.Cut(locale, "@")
	locale = cmp.Or(strings.ReplaceAll(locale, "_", "-"), "en")
	return &Money{formatter: currency.NewFormatter(currency.NewLocale(locale))}
}

// stripeDigits is how many digits a currency's minor unit has for Stripe;
// code is upper case.
func stripeDigits(code string) int {
	if digits, ok := minorDigits[code]; ok {
		return digits
	}
	return 2
}

// decimal writes an amount in minor units as an exact decimal string using
// Stripe's minor unit for the currency; no floating point is involved.
func decimal(minor int64, code string) string {
	digits := stripeDigits(code)
	neg := minor < 0
	u := uint64(minor)
	if neg {
		u = -u // two's complement: right even for math.MinInt64
	}
	s := strconv.FormatUint(u, 10)
	if digits > 0 {
		if len(s) <= digits {
			s = strings.Repeat("0", digits-len(s)+1) + s
		}
		s = s[:len(s)-digits] + "." + s[len(s)-digits:]
	}
	if neg {
		s = "-" + s
	}
	return s
}

// Format writes minor units of a Stripe currency code ("usd", "jpy") for people:
// "$49.00", "¥500", "KWD 1.250".
func (m *Money) Format(minor int64, cur string) string {
	code := strings.ToUpper(safetext.CleanMax(cur, 8))
	amount, err := currency.NewAmount(decimal(minor, code), code)
	if err != nil {
		return decimal(minor, code) + " " + code
	}
	return m.formatter.Format(amount)
}

// Totals are sums kept per currency; two currencies are never added together.
type Totals map[string]int64

// Zero reports whether every total is nothing.
func (t Totals) Zero() bool {
	for _, v := range t {
		if v != 0 {
			return false
		}
	}
	return true
}

// Add adds minor units of a currency.
func (t Totals) Add(minor int64, cur string) { t[strings.ToLower(cur)] += minor }

// Format writes the two largest currencies' totals, then how many more:
// "$1,234.00 + €20.00 + 3 more".
func (t Totals) Format(m *Money) string {
	codes := slices.SortedFunc(maps.Keys(t), func(a, b string) int { return cmp.Or(cmp.Compare(t[b], t[a]), strings.Compare(a, b)) })
	parts := make([]string, 0, 3)
	for _, c := range codes[:min(2, len(codes))] {
		if t[c] < 0 { // a minus sign, as refunds are written
			parts = append(parts, "\u2212"+m.Format(-t[c], c))
			continue
		}
		parts = append(parts, m.Format(t[c], c))
	}
	if len(codes) > 2 {
		parts = append(parts, fmt.Sprintf("%d more", len(codes)-2))
	}
	return strings.Join(parts, " + ")
}

// DayText is the one figure for a day, wherever it is shown (the tray,
// Activity, the morning summary): "sales $120.00 · refunds −$10.00", the
// refunds left out while there are none.
func DayText(m *Money, sales, refunds int64, cur string) string {
	s := "sales " + m.Format(sales, cur)
	if refunds != 0 {
		s += " · refunds \u2212" + m.Format(-refunds, cur)
	}
	return s
}

// Signed writes an amount with its sign, as format writes it: "+$9.00",
// "−$9.00".
func Signed(v int64, format func(int64) string) string {
	if v < 0 {
		return "\u2212" + format(-v)
	}
	return "+" + format(v)
}
