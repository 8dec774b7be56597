package notifier

import (
	"encoding/json"
	"math"

	"github.com/cashbell/cashbell/internal/safetext"
)

// obj is a leniently read JSON object: wrong or missing fields read as zero.
// Stripe renders each event's object at the API version the account had when
// the event happened, so a field may be missing, null, expanded or of
// another shape; nothing here fails on that.
type obj map[string]any

// parseObj reads an object. Numbers come as float64, which holds every
// integer up to 2^53 exactly: Stripe's amounts (at most twelve digits) and
// times; num refuses a number past that, or with a fraction, rather than
// round it.
func parseObj(raw []byte) obj {
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return obj{}
	}
	return m
}

func (o obj) get(path ...string) any {
	var cur any = map[string]any(o)
	for _, p := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[p]
	}
	return cur
}

func (o obj) str(path ...string) string {
	s, _ := o.get(path...).(string)
	return s
}

// text reads a field that someone else wrote (a customer, the account's
// owner), made fit to show: see safetext.Clean.
func (o obj) text(path ...string) string { return safetext.Clean(o.str(path...)) }

func (o obj) num(path ...string) (int64, bool) {
	switch v := o.get(path...).(type) {
	case json.Number:
		n, err := v.Int64()
		return n, err == nil
	case float64:
		if v != math.Trunc(v) || math.Abs(v) > 1<<53 {
			return 0, false
		}
		return int64(v), true
	}
	return 0, false
}

func (o obj) boolean(path ...string) (bool, bool) {
	b, ok := o.get(path...).(bool)
	return b, ok
}

func (o obj) has(key string) bool {
	_, ok := o[key]
	return ok
}

func (o obj) sub(path ...string) obj {
	m, _ := o.get(path...).(map[string]any)
	return m
}

// id reads a field that is either an id or an expanded object with an id.
func (o obj) id(path ...string) string {
	switch v := o.get(path...).(type) {
	case string:
		return v
	case map[string]any:
		s, _ := v["id"].(string)
		return s
	}
	return ""
}

// first is the first item of a list such as items or lines.
// list is an array of objects, such as total_discount_amounts.
func (o obj) list(key string) []obj {
	items, _ := o.get(key).([]any)
	out := make([]obj, 0, len(items))
	for _, it := range items {
		if m, ok := it.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

func (o obj) first(listKey string) obj {
	items, _ := o.get(listKey, "data").([]any)
	if len(items) == 0 {
		return nil
	}
	item, _ := items[0].(map[string]any)
	return item
}
