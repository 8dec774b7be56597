package notifier

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/cashbell/cashbell/internal/safetext"
)

// Details are what enrichment learnt about an event beyond its own object.
type Details struct {
	Email   string
	Country string
	Product string
	Fee     int64
	Net     int64
	NetCur  string // currency of Fee and Net; empty when unknown
}

// clean makes the details, which enrichment read from Stripe, fit to show.
func (d Details) clean() Details {
	d.Email, d.Country, d.Product = safetext.Clean(d.Email), safetext.Clean(d.Country), safetext.Clean(d.Product)
	return d
}

// TextOptions shape the text.
type TextOptions struct {
	Money       *Money
	HideAmounts bool
	Location    *time.Location // for dates; local when nil
}

// amount writes money for the text: hidden, empty without a currency, or
// formatted. Without a formatter (Notifies only asks whether there is any
// text) it is the exact decimal and the code.
func (opt TextOptions) amount(minor int64, cur string) string {
	switch {
	case opt.HideAmounts:
		return "•••"
	case cur == "":
		return ""
	case opt.Money == nil:
		code := strings.ToUpper(cur)
		return decimal(minor, code) + " " + code
	}
	return opt.Money.Format(minor, cur)
}

// Text is a notification's title and body.
type Text struct {
	Title string
	Body  string
}

// obj is a leniently read JSON object: wrong or missing fields read as zero.
type obj map[string]any

func parseObj(raw []byte) obj {
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
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
func (o obj) id(key string) string {
	switch v := o[key].(type) {
	case string:
		return v
	case map[string]any:
		s, _ := v["id"].(string)
		return s
	}
	return ""
}

// firstPrice is the price of a subscription's or invoice's first item.
func firstPrice(o obj, listKey string) obj {
	items, _ := o.get(listKey, "data").([]any)
	if len(items) == 0 {
		return nil
	}
	item, _ := items[0].(map[string]any)
	p, _ := item["price"].(map[string]any)
	return p
}

func firstQuantity(o obj, listKey string) (int64, bool) {
	items, _ := o.get(listKey, "data").([]any)
	if len(items) == 0 {
		return 0, false
	}
	item, _ := items[0].(map[string]any)
	return obj(item).num("quantity")
}

// Notifies reports whether an event is worth a notification at all: every
// notified type is, except subscription updates that change nothing a person
// cares about.
func Notifies(e Event) bool {
	switch e.Type {
	case "customer.subscription.updated":
		return len(subscriptionChanges(parseObj(e.Object), parseObj(e.Previous), nil, TextOptions{})) > 0
	}
	_, ok := TypeLabels[e.Type]
	return ok
}

// Amount returns an event's amount and currency, for sums and the minimum.
func Amount(e Event) (int64, string, bool) {
	o := parseObj(e.Object)
	cur := o.str("currency")
	switch e.Type {
	case "charge.refunded":
		n, ok := o.num("amount_refunded")
		return n, cur, ok && cur != ""
	case "customer.subscription.created", "customer.subscription.updated", "customer.subscription.deleted", "customer.subscription.trial_will_end":
		p := obj(firstPrice(o, "items"))
		n, ok := p.num("unit_amount")
		return n, p.str("currency"), ok && p.str("currency") != ""
	}
	n, ok := o.num("amount")
	return n, cur, ok && cur != ""
}

// Describe turns an event into a notification's title and body. It is pure:
// every fact comes from the event, the account name and the details.
func Describe(e Event, account string, d Details, opt TextOptions) Text {
	if opt.Money == nil {
		opt.Money = NewMoney("en-US")
	}
	if opt.Location == nil {
		opt.Location = time.Local
	}
	d = d.clean()
	account = safetext.Clean(account)
	o := parseObj(e.Object)
	money := opt.amount
	amount, _ := o.num("amount")
	cur := o.str("currency")
	who := customer(o, d)
	var what string
	var parts []string
	add := func(s ...string) {
		for _, x := range s {
			if x = strings.TrimSpace(x); x != "" {
				parts = append(parts, x)
			}
		}
	}
	product := d.Product
	if product == "" {
		product = o.text("description")
	}

	switch e.Type {
	case "charge.succeeded":
		what = "New sale"
		add(joinNonEmpty(" from ", money(amount, cur), who), product)
		if d.NetCur != "" && !opt.HideAmounts {
			add("net " + money(d.Net, d.NetCur))
		}
	case "charge.refunded":
		what = "Refund"
		refunded, _ := o.num("amount_refunded")
		line := money(refunded, cur) + " refunded"
		if refunded < amount && !opt.HideAmounts {
			line = money(refunded, cur) + " of " + money(amount, cur) + " refunded"
		}
		add(joinNonEmpty(" to ", line, who), product)
	case "charge.failed":
		what = "Payment failed"
		add(joinNonEmpty(" from ", money(amount, cur), who), o.text("failure_message"))
	case "charge.dispute.created":
		what = "New dispute"
		add(money(amount, cur)+" disputed", reason(o.text("reason")))
		if due, ok := o.num("evidence_details", "due_by"); ok && due > 0 {
			add("respond by " + time.Unix(due, 0).In(opt.Location).Format("Jan 2"))
		}
	case "payout.paid":
		what = "Payout paid"
		line := money(amount, cur)
		if at, ok := o.num("arrival_date"); ok && at > 0 {
			line += " arriving " + time.Unix(at, 0).In(opt.Location).Format("Jan 2")
		}
		add(line)
	case "payout.failed":
		what = "Payout failed"
		add(money(amount, cur), o.text("failure_message"))
	case "customer.subscription.created":
		what = "New subscription"
		if o.str("status") == "trialing" {
			what = "New trial"
		}
		add(who, plan(o, d, money))
		if end, ok := o.num("trial_end"); ok && end > 0 && o.str("status") == "trialing" {
			add("trial ends " + time.Unix(end, 0).In(opt.Location).Format("Jan 2"))
		}
	case "customer.subscription.updated":
		what = "Subscription changed"
		add(who)
		add(subscriptionChanges(o, parseObj(e.Previous), &d, opt)...)
	case "customer.subscription.deleted":
		what = "Subscription cancelled"
		add(who, plan(o, d, money))
	case "customer.subscription.trial_will_end":
		what = "Trial ending soon"
		add(who, plan(o, d, money))
		if end, ok := o.num("trial_end"); ok && end > 0 {
			add("trial ends " + time.Unix(end, 0).In(opt.Location).Format("Jan 2"))
		}
	default:
		what = strings.ReplaceAll(e.Type, ".", " ")
	}
	if account == "" {
		account = "Stripe"
	}
	return Text{Title: account + " — " + what, Body: strings.Join(parts, " · ")}
}

func joinNonEmpty(sep string, a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + sep + b
}

// customer is "jane@example.com (FR)" from the charge or the details.
func customer(o obj, d Details) string {
	email := o.text("billing_details", "email")
	if email == "" {
		email = o.text("receipt_email")
	}
	if email == "" {
		email = d.Email
	}
	country := o.text("billing_details", "address", "country")
	if country == "" {
		country = d.Country
	}
	if email == "" {
		return ""
	}
	if country != "" {
		return email + " (" + country + ")"
	}
	return email
}

func reason(r string) string {
	if r == "" {
		return ""
	}
	return "reason: " + strings.ReplaceAll(r, "_", " ")
}

// plan is "Pro plan · $49.00/month".
func plan(o obj, d Details, money func(int64, string) string) string {
	p := obj(firstPrice(o, "items"))
	name := d.Product
	if name == "" {
		name = p.text("nickname")
	}
	price := ""
	if n, ok := p.num("unit_amount"); ok {
		price = money(n, p.str("currency"))
		if iv := p.str("recurring", "interval"); iv != "" && price != "" {
			price += "/" + iv
		}
	}
	if q, ok := firstQuantity(o, "items"); ok && q > 1 {
		price = strconv.FormatInt(q, 10) + " × " + price
	}
	return joinNonEmpty(" · ", name, price)
}

// subscriptionChanges lists the changes a person cares about: plan or price,
// quantity, status, and cancellation scheduled or withdrawn.
func subscriptionChanges(o, prev obj, d *Details, opt TextOptions) []string {
	if len(prev) == 0 {
		return nil
	}
	var out []string
	money := opt.amount
	if prev.has("items") || prev.has("plan") {
		was, now := obj(firstPrice(prev, "items")), obj(firstPrice(o, "items"))
		if prev.has("plan") && was == nil {
			was = prev.sub("plan")
		}
		wasAmount, _ := was.num("unit_amount")
		nowAmount, _ := now.num("unit_amount")
		if was.str("id") != now.str("id") || wasAmount != nowAmount {
			label := func(p obj) string {
				name := p.text("nickname")
				n, ok := p.num("unit_amount")
				if ok {
					name = joinNonEmpty(" ", name, money(n, p.str("currency")))
					if iv := p.str("recurring", "interval"); iv != "" {
						name += "/" + iv
					}
				}
				return name
			}
			line := "plan changed: " + label(was) + " → " + label(now)
			if d != nil && d.Product != "" {
				line = "plan changed to " + d.Product + ": " + label(was) + " → " + label(now)
			}
			out = append(out, line)
		}
		wq, ok1 := firstQuantity(prev, "items")
		nq, ok2 := firstQuantity(o, "items")
		if ok1 && ok2 && wq != nq {
			out = append(out, fmt.Sprintf("quantity %d → %d", wq, nq))
		}
	}
	if wq, ok := prev.num("quantity"); ok {
		if nq, ok := o.num("quantity"); ok && wq != nq {
			out = append(out, fmt.Sprintf("quantity %d → %d", wq, nq))
		}
	}
	if was := prev.text("status"); was != "" && was != o.text("status") {
		out = append(out, "status "+strings.ReplaceAll(was, "_", " ")+" → "+strings.ReplaceAll(o.text("status"), "_", " "))
	}
	if prev.has("cancel_at_period_end") {
		was, _ := prev.boolean("cancel_at_period_end")
		now, _ := o.boolean("cancel_at_period_end")
		switch {
		case now && !was:
			line := "cancels at period end"
			if at, ok := o.num("cancel_at"); ok && at > 0 {
				loc := opt.Location
				if loc == nil {
					loc = time.Local
				}
				line = "cancels on " + time.Unix(at, 0).In(loc).Format("Jan 2")
			}
			out = append(out, line)
		case was && !now:
			out = append(out, "cancellation withdrawn")
		}
	} else if prev.has("cancel_at") {
		_, wasSet := prev.num("cancel_at")
		_, nowSet := o.num("cancel_at")
		switch {
		case nowSet && !wasSet:
			out = append(out, "cancellation scheduled")
		case wasSet && !nowSet:
			out = append(out, "cancellation withdrawn")
		}
	}
	return out
}

// Summary is the one notification that stands for the events of a burst
// beyond the first few: "and 37 more: 34 sales $1,234.00 · 3 refunds".
func Summary(account string, events []Event, opt TextOptions) Text {
	if opt.Money == nil {
		opt.Money = NewMoney("en-US")
	}
	account = safetext.Clean(account)
	counts := map[string]int{}
	totals := map[string]Totals{}
	for _, e := range events {
		counts[e.Type]++
		if n, cur, ok := Amount(e); ok {
			if totals[e.Type] == nil {
				totals[e.Type] = Totals{}
			}
			totals[e.Type].Add(n, cur)
		}
	}
	var parts []string
	for _, typ := range NotifiedTypes {
		n := counts[typ]
		if n == 0 {
			continue
		}
		line := fmt.Sprintf("%d %s", n, plural(typ, n))
		if t := totals[typ]; len(t) > 0 && !opt.HideAmounts && moneyType(typ) {
			line += " " + t.Format(opt.Money)
		}
		parts = append(parts, line)
	}
	if account == "" {
		account = "Stripe"
	}
	return Text{Title: fmt.Sprintf("%s — and %d more", account, len(events)), Body: strings.Join(parts, " · ")}
}

func moneyType(typ string) bool {
	return strings.HasPrefix(typ, "charge.") || strings.HasPrefix(typ, "payout.")
}

func plural(typ string, n int) string {
	one := map[string]string{
		"charge.succeeded": "sale", "charge.refunded": "refund", "charge.failed": "failed payment",
		"charge.dispute.created": "dispute", "payout.paid": "payout", "payout.failed": "failed payout",
		"customer.subscription.created": "new subscription", "customer.subscription.updated": "subscription change",
		"customer.subscription.deleted": "cancellation", "customer.subscription.trial_will_end": "trial ending",
	}[typ]
	if n == 1 {
		return one
	}
	if strings.HasSuffix(one, "ending") {
		return strings.TrimSuffix(one, "ending") + "endings"
	}
	return one + "s"
}

// DashboardURL is the Stripe Dashboard page for an event's object.
func DashboardURL(e Event, live bool, connectedAccount string) string {
	o := parseObj(e.Object)
	u := "https://dashboard.stripe.com/"
	if connectedAccount != "" {
		u += connectedAccount + "/"
	}
	if !live {
		u += "test/"
	}
	id := o.str("id")
	switch {
	case strings.HasPrefix(e.Type, "charge.dispute."):
		if ch := o.id("charge"); ch != "" {
			return u + "payments/" + ch
		}
		return u + "disputes/" + id
	case strings.HasPrefix(e.Type, "charge."):
		return u + "payments/" + id
	case strings.HasPrefix(e.Type, "payout."):
		return u + "payouts/" + id
	case strings.HasPrefix(e.Type, "customer.subscription."):
		return u + "subscriptions/" + id
	}
	return u + "events/" + e.ID
}
