package stripesim

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// AccountSpec describes an account to create.
type AccountSpec struct {
	ID           string // "acct_..."; generated when empty
	DisplayName  string // settings.dashboard.display_name
	BusinessName string // business_profile.name
	Icon         []byte // settings.branding.icon file contents, if any
	Platform     string // id of the platform account, for a connected account
	Country      string
	// APIVersion is the account's API version: its events are rendered at
	// it, and so is any answer to a request that names no Stripe-Version.
	// Version20231016 when empty.
	APIVersion string
	// AccountRead is how GET /v1/account answers a restricted key (see
	// AccountRead constants); AccountReadKYCBasic when empty.
	AccountRead AccountRead
	// Settles is the currency its balance is kept in (Account.default_currency,
	// "the currency this account has chosen to use as the default"); "usd"
	// when empty. A charge in another currency is converted into it.
	Settles string
}

// Account is a simulated Stripe account with separate live and test data.
type Account struct {
	ID       string
	Platform string
	Version  string
	spec     AccountSpec
	live     *dataset
	test     *dataset
}

type dataset struct {
	account string
	live    bool
	events  []*event // in creation order
	objects map[string]map[string]any
	order   []string // object ids in creation order
	files   map[string][]byte
}

type event struct {
	id        string
	created   int64
	seq       int64
	typ       string
	visibleAt time.Time
	// body is the event as Stripe sends it, encoded once when it is made:
	// an event never changes afterwards (Event.api_version: "The Stripe API
	// version used to render data when the event was created").
	body json.RawMessage
}

func (a *Account) data(live bool) *dataset {
	if live {
		return a.live
	}
	return a.test
}

// CreateAccount adds an account and returns its id.
func (s *Sim) CreateAccount(spec AccountSpec) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if spec.ID == "" {
		spec.ID = "acct_1" + randomToken(15)
	}
	if spec.Country == "" {
		spec.Country = "US"
	}
	if spec.APIVersion == "" {
		spec.APIVersion = Version20231016
	}
	if spec.AccountRead == "" {
		spec.AccountRead = AccountReadKYCBasic
	}
	if spec.Settles == "" {
		spec.Settles = "usd"
	}
	if spec.Platform != "" {
		s.mustAccount(spec.Platform)
	}
	a := &Account{ID: spec.ID, Platform: spec.Platform, Version: spec.APIVersion, spec: spec}
	for _, live := range []bool{false, true} {
		ds := &dataset{account: spec.ID, live: live, objects: map[string]map[string]any{}, files: map[string][]byte{}}
		if spec.Icon != nil {
			ds.files["file_icon"] = spec.Icon
		}
		if live {
			a.live = ds
		} else {
			a.test = ds
		}
	}
	s.accounts[spec.ID] = a
	return spec.ID
}

// AccountIDs lists the simulated accounts' ids, sorted.
func (s *Sim) AccountIDs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := make([]string, 0, len(s.accounts))
	for id := range s.accounts {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// SetIcon replaces the branding icon of an account (nil removes it).
func (s *Sim) SetIcon(accountID string, icon []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.mustAccount(accountID)
	a.spec.Icon = icon
	for _, ds := range []*dataset{a.live, a.test} {
		if icon == nil {
			delete(ds.files, "file_icon")
		} else {
			ds.files["file_icon"] = icon
		}
	}
}

func (s *Sim) route(w http.ResponseWriter, r *http.Request, version string, ds *dataset) {
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if len(parts) < 2 || parts[0] != "v1" {
		notFound(w, r)
		return
	}
	resource, id := parts[1], ""
	if len(parts) == 3 {
		id = parts[2]
	}
	switch {
	case r.Method == http.MethodPost && resource == "file_links" && id == "":
		s.createFileLink(w, r, ds)
	case r.Method != http.MethodGet || len(parts) > 3:
		notFound(w, r)
	case resource == "events" && id == "":
		s.listEvents(w, r, ds)
	case resource == "events":
		s.getEvent(w, ds, id)
	case resource == "account" && id == "":
		writeJSON(w, http.StatusOK, s.accountObject(ds))
	case resource == "balance" && id == "":
		writeJSON(w, http.StatusOK, map[string]any{"object": "balance", "livemode": ds.live,
			"available": []any{map[string]any{"amount": 0, "currency": "usd"}},
			"pending":   []any{map[string]any{"amount": 0, "currency": "usd"}}})
	default:
		prefix, ok := listable[resource]
		if !ok {
			notFound(w, r)
			return
		}
		if id == "" {
			listObjects(w, r, ds, prefix, version)
			return
		}
		obj, ok := ds.objects[id]
		if !ok || !strings.HasPrefix(id, prefix) {
			missing(w, resource, id)
			return
		}
		writeJSON(w, http.StatusOK, ds.discounts(version, render(version, obj), formList(r.Form, "expand")))
	}
}

// listable maps a resource path to the id prefix of its objects.
var listable = map[string]string{
	"customers":            "cus_",
	"invoices":             "in_",
	"products":             "prod_",
	"prices":               "price_",
	"subscriptions":        "sub_",
	"payouts":              "po_",
	"balance_transactions": "txn_",
	"charges":              "ch_",
	"disputes":             "dp_",
	"refunds":              "re_",
}

func notFound(w http.ResponseWriter, r *http.Request) {
	WriteError(w, http.StatusNotFound, APIError{Type: "invalid_request_error",
		Message: fmt.Sprintf("Unrecognized request URL (%s: %s). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.", r.Method, r.URL.Path)})
}

func missing(w http.ResponseWriter, resource, id string) {
	singular := strings.TrimSuffix(resource, "s")
	WriteError(w, http.StatusNotFound, APIError{Type: "invalid_request_error", Code: "resource_missing", Param: "id",
		Message: fmt.Sprintf("No such %s: '%s'", singular, id)})
}

func badParam(w http.ResponseWriter, param, msg string) {
	WriteError(w, http.StatusBadRequest, APIError{Type: "invalid_request_error", Code: "parameter_invalid_integer", Param: param, Message: msg})
}

func (s *Sim) getEvent(w http.ResponseWriter, ds *dataset, id string) {
	for _, e := range ds.events {
		if e.id == id && s.listable(e) {
			writeJSON(w, http.StatusOK, e.body)
			return
		}
	}
	missing(w, "events", id)
}

func (s *Sim) listable(e *event) bool {
	now := s.now()
	return !e.visibleAt.After(now) && now.Sub(time.Unix(e.created, 0)) <= eventRetention
}

// formList reads an array parameter sent as name[]=a or name[0]=a.
func formList(v url.Values, name string) []string {
	var out []string
	out = append(out, v[name+"[]"]...)
	idx := map[int]string{}
	for k, vals := range v {
		rest, ok := strings.CutPrefix(k, name+"[")
		if !ok || !strings.HasSuffix(rest, "]") {
			continue
		}
		if n, err := strconv.Atoi(strings.TrimSuffix(rest, "]")); err == nil && len(vals) > 0 {
			idx[n] = vals[0]
		}
	}
	keys := make([]int, 0, len(idx))
	for k := range idx {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	for _, k := range keys {
		out = append(out, idx[k])
	}
	return out
}

type createdRange struct {
	gt, gte, lt, lte *int64
	eq               *int64
}

func (c createdRange) match(t int64) bool {
	return (c.eq == nil || t == *c.eq) && (c.gt == nil || t > *c.gt) && (c.gte == nil || t >= *c.gte) &&
		(c.lt == nil || t < *c.lt) && (c.lte == nil || t <= *c.lte)
}

func parseCreated(v url.Values) (createdRange, string, bool) {
	var c createdRange
	fields := map[string]**int64{"created": &c.eq, "created[gt]": &c.gt, "created[gte]": &c.gte, "created[lt]": &c.lt, "created[lte]": &c.lte}
	for name, dst := range fields {
		raw := v.Get(name)
		if raw == "" {
			continue
		}
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil {
			return c, name, false
		}
		*dst = &n
	}
	return c, "", true
}

func parseLimit(w http.ResponseWriter, v url.Values) (int, bool) {
	limit := 10
	if raw := v.Get("limit"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 || n > 100 {
			badParam(w, "limit", fmt.Sprintf("Invalid integer: %s. This value must be between 1 and 100.", raw))
			return 0, false
		}
		limit = n
	}
	return limit, true
}

// page applies Stripe's cursor rules to ids listed newest first: starting_after
// goes to older items, ending_before to newer ones, and either way the page is
// the limit items nearest the cursor, newest first.
func page(w http.ResponseWriter, v url.Values, ids []string, limit int, resource string) ([]string, bool, bool) {
	after, before := v.Get("starting_after"), v.Get("ending_before")
	if after != "" && before != "" {
		WriteError(w, http.StatusBadRequest, APIError{Type: "invalid_request_error",
			Message: "You may only specify one of these parameters: ending_before, starting_after."})
		return nil, false, false
	}
	find := func(id string) int {
		for i, x := range ids {
			if x == id {
				return i
			}
		}
		return -1
	}
	switch {
	case after != "":
		i := find(after)
		if i < 0 {
			missing(w, resource, after)
			return nil, false, false
		}
		rest := ids[i+1:]
		if len(rest) > limit {
			return rest[:limit], true, true
		}
		return rest, false, true
	case before != "":
		i := find(before)
		if i < 0 {
			missing(w, resource, before)
			return nil, false, false
		}
		rest := ids[:i]
		if len(rest) > limit {
			return rest[len(rest)-limit:], true, true
		}
		return rest, false, true
	default:
		if len(ids) > limit {
			return ids[:limit], true, true
		}
		return ids, false, true
	}
}

func (s *Sim) listEvents(w http.ResponseWriter, r *http.Request, ds *dataset) {
	v := r.Form
	limit, ok := parseLimit(w, v)
	if !ok {
		return
	}
	created, bad, ok := parseCreated(v)
	if !ok {
		badParam(w, bad, "Invalid integer: "+v.Get(bad))
		return
	}
	types := formList(v, "types")
	if len(types) > 20 {
		WriteError(w, http.StatusBadRequest, APIError{Type: "invalid_request_error", Param: "types",
			Message: "Invalid array: types. You may specify at most 20 types."})
		return
	}
	if v.Get("type") != "" && len(types) > 0 {
		WriteError(w, http.StatusBadRequest, APIError{Type: "invalid_request_error",
			Message: "You may only specify one of these parameters: type, types."})
		return
	}
	want := map[string]bool{}
	for _, t := range types {
		want[t] = true
	}
	single := v.Get("type")

	visible := make([]*event, 0, len(ds.events))
	for i := len(ds.events) - 1; i >= 0; i-- { // newest first, as they were made
		e := ds.events[i]
		if !s.listable(e) || !created.match(e.created) {
			continue
		}
		if (len(want) > 0 && !want[e.typ]) || (single != "" && !typeMatch(single, e.typ)) {
			continue
		}
		visible = append(visible, e)
	}
	newestFirst := func(a, b *event) int {
		if a.created != b.created {
			return cmp.Compare(b.created, a.created)
		}
		return cmp.Compare(b.seq, a.seq)
	}
	if !slices.IsSortedFunc(visible, newestFirst) { // events stamped with At
		slices.SortStableFunc(visible, newestFirst)
	}
	ids := make([]string, len(visible))
	for i, e := range visible {
		ids[i] = e.id
	}
	// A cursor must name an event that exists, even if filters hide it.
	for _, c := range []string{v.Get("starting_after"), v.Get("ending_before")} {
		if c != "" && !slices.Contains(ids, c) && ds.hasEvent(c) {
			ids = insertCursor(ds, visible, c)
			break
		}
	}
	got, more, ok := page(w, v, ids, limit, "events")
	if !ok {
		return
	}
	byID := make(map[string]*event, len(got))
	for _, id := range got {
		byID[id] = nil
	}
	for _, e := range visible {
		if _, ok := byID[e.id]; ok {
			byID[e.id] = e
		}
	}
	data := make([]json.RawMessage, 0, len(got))
	for _, id := range got {
		if e := byID[id]; e != nil {
			data = append(data, e.body)
		}
	}
	// The events are written as they were encoded, without indenting them
	// again, which would cost more than Cashbell's whole reading of them.
	body := bytes.NewBufferString(`{"object":"list","url":"/v1/events","has_more":` + strconv.FormatBool(more) + `,"data":[`)
	for i, raw := range data {
		if i > 0 {
			body.WriteByte(',')
		}
		body.Write(raw)
	}
	body.WriteString("]}\n")
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body.Bytes())
}

func (ds *dataset) hasEvent(id string) bool {
	for _, e := range ds.events {
		if e.id == id {
			return true
		}
	}
	return false
}

// insertCursor places a filtered-out cursor event among the visible ones so
// that paging around it still works.
func insertCursor(ds *dataset, visible []*event, id string) []string {
	var cur *event
	for _, e := range ds.events {
		if e.id == id {
			cur = e
		}
	}
	ids := make([]string, 0, len(visible)+1)
	placed := false
	for _, e := range visible {
		if !placed && (cur.created > e.created || (cur.created == e.created && cur.seq > e.seq)) {
			ids = append(ids, cur.id)
			placed = true
		}
		ids = append(ids, e.id)
	}
	if !placed {
		ids = append(ids, cur.id)
	}
	return ids
}

// typeMatch implements the "type" filter, which accepts a trailing wildcard.
func typeMatch(pattern, typ string) bool {
	if p, ok := strings.CutSuffix(pattern, "*"); ok {
		return strings.HasPrefix(typ, p)
	}
	return pattern == typ
}

func listObjects(w http.ResponseWriter, r *http.Request, ds *dataset, prefix, version string) {
	v := r.Form
	limit, ok := parseLimit(w, v)
	if !ok {
		return
	}
	// List refunds takes charge: "Only return refunds for the charge
	// specified by this charge ID" (docs.stripe.com/api/refunds/list).
	charge := ""
	if prefix == "re_" {
		charge = v.Get("charge")
	}
	// Every list Cashbell reads takes created ("Only return ... that were
	// created during the given date interval", docs.stripe.com/api/
	// balance_transactions/list and the others).
	created, bad, ok := parseCreated(v)
	if !ok {
		badParam(w, bad, "Invalid integer: "+v.Get(bad))
		return
	}
	// Newest first, from the cursor on: a page, the cursor, and one more
	// to say whether there is more (ending_before reads them all).
	from, want := len(ds.order)-1, -1
	if v.Get("ending_before") == "" {
		want = limit + 2
		if i := slices.Index(ds.order, v.Get("starting_after")); i >= 0 {
			from = i
		}
	}
	ids := make([]string, 0)
	for i := from; i >= 0 && (want < 0 || len(ids) < want); i-- {
		id := ds.order[i]
		if !strings.HasPrefix(id, prefix) {
			continue
		}
		obj := ds.objects[id]
		if at, _ := obj["created"].(int64); (charge == "" || obj["charge"] == charge) && created.match(at) {
			ids = append(ids, id)
		}
	}
	got, more, ok := page(w, v, ids, limit, strings.Trim(r.URL.Path, "/"))
	if !ok {
		return
	}
	data := make([]any, 0, len(got))
	var expand []string
	for _, path := range formList(v, "expand") {
		if rest, ok := strings.CutPrefix(path, "data."); ok {
			expand = append(expand, rest)
		}
	}
	for _, id := range got {
		data = append(data, ds.discounts(version, render(version, ds.objects[id]), expand))
	}
	writeJSON(w, http.StatusOK, map[string]any{"object": "list", "url": r.URL.Path, "has_more": more, "data": data})
}

func (s *Sim) accountObject(ds *dataset) map[string]any {
	a := s.accounts[ds.account]
	var icon any
	if _, ok := ds.files["file_icon"]; ok {
		icon = "file_icon"
	}
	var display, business any
	if a.spec.DisplayName != "" {
		display = a.spec.DisplayName
	}
	if a.spec.BusinessName != "" {
		business = a.spec.BusinessName
	}
	typ := "standard"
	if a.Platform != "" {
		typ = "express"
	}
	return map[string]any{
		"id": a.ID, "object": "account", "type": typ, "country": a.spec.Country,
		"default_currency": a.spec.Settles, "charges_enabled": true, "payouts_enabled": true,
		"business_profile": map[string]any{"name": business, "url": nil},
		"settings": map[string]any{
			"dashboard": map[string]any{"display_name": display, "timezone": "Etc/UTC"},
			"branding":  map[string]any{"icon": icon, "logo": nil, "primary_color": "#635bff"},
		},
	}
}

func (s *Sim) createFileLink(w http.ResponseWriter, r *http.Request, ds *dataset) {
	file := r.PostForm.Get("file")
	if file == "" {
		WriteError(w, http.StatusBadRequest, APIError{Type: "invalid_request_error", Code: "parameter_missing", Param: "file",
			Message: "Missing required param: file."})
		return
	}
	if _, ok := ds.files[file]; !ok {
		missing(w, "files", file)
		return
	}
	// expires_at: "The link isn't usable after this future timestamp"
	// (docs.stripe.com/api/file_links/create).
	var expires any
	var expiresAt time.Time
	if raw := r.PostForm.Get("expires_at"); raw != "" {
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || n <= s.now().Unix() {
			WriteError(w, http.StatusBadRequest, APIError{Type: "invalid_request_error", Code: "parameter_invalid_integer", Param: "expires_at",
				Message: "The expires_at timestamp must be in the future."})
			return
		}
		expires, expiresAt = n, time.Unix(n, 0)
	}
	token := "MDB8" + randomToken(40)
	s.links[token] = fileRef{account: ds.account, live: ds.live, id: file, expires: expiresAt}
	writeJSON(w, http.StatusOK, map[string]any{
		"id": "link_" + randomToken(24), "object": "file_link", "created": s.now().Unix(),
		"expired": false, "expires_at": expires, "file": file, "livemode": ds.live,
		"url": s.URL + "/links/" + token,
	})
}

// serveLink answers a public file link, as files.stripe.com does: no key needed.
func (s *Sim) serveLink(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	ref, ok := s.links[strings.TrimPrefix(r.URL.Path, "/links/")]
	if ok && !ref.expires.IsZero() && !s.now().Before(ref.expires) {
		ok = false // an expired link serves nothing
	}
	var body []byte
	if ok {
		body = s.accounts[ref.account].data(ref.live).files[ref.id]
	}
	s.mu.Unlock()
	if !ok || body == nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", http.DetectContentType(body))
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	_, _ = w.Write(body)
}
