package store_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/cashbell/cashbell/accounts"
	"github.com/cashbell/cashbell/notifier"
	"github.com/cashbell/cashbell/notifier/store"
)

func openStore(t *testing.T, path string) *store.Store {
	t.Helper()
	s, err := store.Open(path, store.OpenOptions{Timeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func events(account string, n int, from int64) []store.Event {
	out := make([]store.Event, n)
	for i := range n {
		out[i] = store.Event{ID: fmt.Sprintf("evt_%s_%05d", account, i), Type: "charge.succeeded", Created: from + int64(i),
			Object: []byte(`{"amount":100,"currency":"usd"}`)}
	}
	return out
}

func TestStoreIsPrivateAndVersioned(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "cashbell.db")
	s := openStore(t, path)
	info, err := os.Stat(path)
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("store mode %v, %v", info.Mode().Perm(), err)
	}
	set, err := s.Settings(context.Background())
	if err != nil || set.PollInterval() != store.DefaultInterval || !set.Enabled("sale") {
		t.Fatalf("default settings: %+v %v", set, err)
	}
}

func TestSecondOpenSaysAlreadyRunning(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cashbell.db")
	openStore(t, path)
	start := time.Now()
	_, err := store.Open(path, store.OpenOptions{Timeout: 200 * time.Millisecond})
	if !errors.Is(err, store.ErrAlreadyRunning) || err.Error() == "" || time.Since(start) > 2*time.Second {
		t.Fatalf("second open: %v after %v", err, time.Since(start))
	}
}

func TestIngestDeduplicatesAndKeepsStateInTheSameTransaction(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, filepath.Join(t.TempDir(), "cashbell.db"))
	if err := s.SaveAccount(ctx, accounts.Account{ID: "a", Name: "A"}); err != nil {
		t.Fatal(err)
	}
	evs := events("a", 10, 1000)
	added, err := s.Ingest(ctx, "a", evs[:6], &store.PollState{Initialized: true, NewestCreated: 1005}, true)
	if err != nil || len(added) != 6 {
		t.Fatalf("first ingest: %d, %v", len(added), err)
	}
	added, err = s.Ingest(ctx, "a", evs, &store.PollState{Initialized: true, NewestCreated: 1009}, true)
	if err != nil || len(added) != 4 || added[0].ID != evs[6].ID {
		t.Fatalf("overlapping ingest added %d, %v", len(added), err)
	}
	if n, _ := s.Count(ctx, "a"); n != 10 {
		t.Fatalf("%d stored, want 10", n)
	}
	st, _ := s.State(ctx, "a")
	if st.NewestCreated != 1009 {
		t.Fatalf("state %+v", st)
	}
	out, _ := s.Outbox(ctx, "a")
	if len(out) != 10 || out[0].ID != evs[0].ID {
		t.Fatalf("outbox %d, first %s", len(out), out[0].ID)
	}
	if err := s.MarkEvents(ctx, "a", map[string]store.Mark{evs[0].ID: store.MarkNotified, evs[1].ID: store.MarkSkipped}, nil); err != nil {
		t.Fatal(err)
	}
	out, _ = s.Outbox(ctx, "a")
	marks, _ := s.Marks(ctx, "a")
	if len(out) != 8 || marks[evs[0].ID] != store.MarkNotified || marks[evs[1].ID] != store.MarkSkipped {
		t.Fatalf("after marking: outbox %d marks %v", len(out), marks)
	}
	// Events of an account removed meanwhile are dropped, not stored.
	added, err = s.Ingest(ctx, "gone", events("gone", 2, 1), nil, true)
	if err != nil || len(added) != 0 {
		t.Fatalf("ingest for unknown account: %d %v", len(added), err)
	}
}

func TestPageMergesAccountsNewestFirst(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, filepath.Join(t.TempDir(), "cashbell.db"))
	for _, id := range []string{"a", "b"} {
		if err := s.SaveAccount(ctx, accounts.Account{ID: id}); err != nil {
			t.Fatal(err)
		}
	}
	// a has even seconds, b odd ones.
	var a, b []store.Event
	for i := range 50 {
		e := store.Event{ID: fmt.Sprintf("evt_%03d", i), Type: "charge.succeeded", Created: int64(1000 + i), Object: []byte(`{}`)}
		if i%2 == 0 {
			a = append(a, e)
		} else {
			e.Type = "payout.paid"
			b = append(b, e)
		}
	}
	if _, err := s.Ingest(ctx, "a", a, nil, false); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Ingest(ctx, "b", b, nil, false); err != nil {
		t.Fatal(err)
	}
	var all []string
	var cur *store.Cursor
	for {
		page, next, err := s.Page(ctx, store.Query{Before: cur, Limit: 7})
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		for _, e := range page {
			all = append(all, e.ID)
			if e.Mark != store.MarkSilent {
				t.Fatalf("%s mark %s", e.ID, e.Mark)
			}
		}
		cur = next
	}
	if len(all) != 50 {
		t.Fatalf("paged %d events, want 50", len(all))
	}
	for i, id := range all {
		if want := fmt.Sprintf("evt_%03d", 49-i); id != want {
			t.Fatalf("position %d: %s, want %s", i, id, want)
		}
	}
	payouts, _, _ := s.Page(ctx, store.Query{Types: []string{"payout.paid"}, Limit: 100})
	onlyA, _, _ := s.Page(ctx, store.Query{Accounts: []string{"a"}, Limit: 100})
	if len(payouts) != 25 || len(onlyA) != 25 || onlyA[0].ID != "evt_048" {
		t.Fatalf("filters: %d payouts, %d of a", len(payouts), len(onlyA))
	}
	latest, _, _ := s.Page(ctx, store.Query{Accounts: []string{"b"}, Limit: 3})
	if len(latest) != 3 || latest[0].ID != "evt_049" || latest[2].ID != "evt_045" {
		t.Fatalf("latest: %v", latest)
	}
}

func TestCorruptStoreIsMovedAsideAndAccountsKept(t *testing.T) {
	ctx := context.Background()
	for name, damage := range map[string]func(path string) error{
		"zeroed":      func(p string) error { return os.WriteFile(p, make([]byte, 64<<10), 0o600) },
		"truncated":   func(p string) error { return os.Truncate(p, 100) },
		"not bbolt":   func(p string) error { return os.WriteFile(p, []byte("SQLite format 3\x00 and more"), 0o600) },
		"empty bytes": func(p string) error { return os.WriteFile(p, nil, 0o600) },
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "cashbell.db")
			s, err := store.Open(path, store.OpenOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if err := s.SaveAccount(ctx, accounts.Account{ID: "acct_1-live", Name: "Acme"}); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Ingest(ctx, "acct_1-live", events("x", 5, 1), &store.PollState{Initialized: true, NewestCreated: 5}, false); err != nil {
				t.Fatal(err)
			}
			s.Close()
			if err := damage(path); err != nil {
				t.Fatal(err)
			}
			s, err = store.Open(path, store.OpenOptions{})
			if err != nil {
				t.Fatalf("reopen: %v", err)
			}
			defer s.Close()
			// bbolt takes an empty file for a new store, so nothing is moved aside.
			if s.Recovered() == "" && name != "empty bytes" {
				t.Fatal("damage not reported")
			}
			if _, err := os.Stat(s.Recovered()); s.Recovered() != "" && err != nil {
				t.Fatalf("the damaged file was not kept: %v", err)
			}
			list, err := s.Accounts(ctx)
			if err != nil || len(list) != 1 || list[0].Name != "Acme" {
				t.Fatalf("accounts after recovery: %+v %v", list, err)
			}
			st, _ := s.State(ctx, "acct_1-live")
			if !st.Rebuild {
				t.Fatalf("history rebuild not asked for: %+v", st)
			}
		})
	}
}

func TestReadOnlyFolderGivesAClearError(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root ignores folder permissions")
	}
	dir := filepath.Join(t.TempDir(), "ro")
	if err := os.Mkdir(dir, 0o500); err != nil {
		t.Fatal(err)
	}
	_, err := store.Open(filepath.Join(dir, "cashbell.db"), store.OpenOptions{})
	if !errors.Is(err, store.ErrReadOnly) {
		t.Fatalf("read-only folder: %v", err)
	}
}

// damageCases are ways a disk, a crash or a stray program leave a store:
// cut short, zeroed in places, overwritten with noise.
func damageCases() map[string]func(path string, size int64) error {
	overwrite := func(path string, off int64, data []byte) error {
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = f.WriteAt(data, off)
		return err
	}
	noise := func(seed uint64, n int) []byte {
		r := rand.New(rand.NewPCG(seed, seed))
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		return b
	}
	const page = 4096
	cases := map[string]func(string, int64) error{
		"truncated to 20000 bytes": func(p string, _ int64) error { return os.Truncate(p, 20000) },
		"truncated to half":        func(p string, size int64) error { return os.Truncate(p, size/2) },
		"truncated by one page":    func(p string, size int64) error { return os.Truncate(p, size-page) },
		"meta pages zeroed":        func(p string, _ int64) error { return overwrite(p, 0, make([]byte, 2*page)) },
		"pages 3 to 8 zeroed":      func(p string, _ int64) error { return overwrite(p, 3*page, make([]byte, 6*page)) },
		"last pages zeroed":        func(p string, size int64) error { return overwrite(p, size-4*page, make([]byte, 4*page)) },
	}
	for seed := range uint64(6) {
		cases[fmt.Sprintf("noise over pages 3 to 8, seed %d", seed)] = func(p string, _ int64) error {
			return overwrite(p, 3*page, noise(seed, 6*page))
		}
		cases[fmt.Sprintf("a few KB of noise in the middle, seed %d", seed)] = func(p string, size int64) error {
			return overwrite(p, (size/2)&^(page-1)+int64(seed)*512, noise(seed+100, 3000))
		}
	}
	return cases
}

// useStore reads and writes everything a running Cashbell reads and writes,
// and returns the first error.
func useStore(s *store.Store) error {
	ctx := context.Background()
	list, err := s.Accounts(ctx)
	if err != nil {
		return err
	}
	for _, a := range list {
		if _, err := s.State(ctx, a.ID); err != nil {
			return err
		}
		if _, err := s.Outbox(ctx, a.ID); err != nil {
			return err
		}
		if _, err := s.Marks(ctx, a.ID); err != nil {
			return err
		}
		if _, err := s.Ingest(ctx, a.ID, events(a.ID+"-new", 3, 5000), nil, true); err != nil {
			return err
		}
	}
	q := store.Query{Limit: 100}
	for {
		evs, cur, err := s.Page(ctx, q)
		if err != nil || len(evs) == 0 {
			return err
		}
		q.Before = cur
	}
}

// A damaged store never crashes Cashbell: Open moves it aside when its meta
// pages give it away, and damage found later is reported as ErrDamaged and
// moved aside at the next start. Accounts come back either way.
func TestDamagedStoresAreMovedAsideNotCrashedOn(t *testing.T) {
	ctx := context.Background()
	for name, damage := range damageCases() {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "cashbell.db")
			s := openStore(t, path)
			for i := range 3 {
				id := fmt.Sprintf("acct_%d-live", i)
				if err := s.SaveAccount(ctx, accounts.Account{ID: id, Name: "Shop " + id}); err != nil {
					t.Fatal(err)
				}
				if _, err := s.Ingest(ctx, id, events(id, 400, 1), &store.PollState{Initialized: true}, i == 0); err != nil {
					t.Fatal(err)
				}
			}
			s.Close()
			info, _ := os.Stat(path)
			if err := damage(path, info.Size()); err != nil {
				t.Fatal(err)
			}
			for attempt := 1; ; attempt++ {
				s, err := store.Open(path, store.OpenOptions{})
				if err != nil {
					t.Fatalf("open %d: %v", attempt, err)
				}
				err = useStore(s)
				recovered := s.Recovered()
				s.Close()
				switch {
				case err == nil && recovered != "":
					s = openStore(t, path)
					list, _ := s.Accounts(ctx)
					if len(list) != 3 {
						t.Fatalf("accounts after recovery: %+v", list)
					}
					if st, _ := s.State(ctx, list[0].ID); !st.Rebuild {
						t.Fatal("no rebuild asked for")
					}
					return
				case err == nil:
					return // the damage fell on free pages: nothing was lost
				case !errors.Is(err, store.ErrDamaged):
					t.Fatalf("use %d: %v, want ErrDamaged", attempt, err)
				case attempt == 2:
					t.Fatalf("still damaged after it was moved aside: %v", err)
				}
			}
		})
	}
}

// A store written by schema 1 (plain JSON events, marks as letters by event
// id, switches by event type) opens as schema 2 with nothing lost.
func TestASchema1StoreIsMigrated(t *testing.T) {
	ctx := context.Background()
	src, err := os.ReadFile("testdata/schema1.db")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "cashbell.db")
	if err := os.WriteFile(path, src, 0o600); err != nil {
		t.Fatal(err)
	}
	for round := range 2 { // and once more: migrating is done once
		s := openStore(t, path)
		list, _ := s.Accounts(ctx)
		if len(list) != 1 || list[0].Name != "Schema One Shop" {
			t.Fatalf("accounts: %+v", list)
		}
		id := list[0].ID
		evs, _, err := s.Page(ctx, store.Query{Limit: 10})
		if err != nil || len(evs) != 4+round {
			t.Fatalf("round %d: events %d, %v", round, len(evs), err)
		}
		byID := map[string]store.Event{}
		for _, e := range evs {
			byID[e.ID] = e
		}
		sale := byID["evt_1Sale"]
		h := notifier.Decode(sale, notifier.Source{Name: "Schema One Shop"})
		if sale.Account != id || h.Amount != 4900 || h.Customer != "jane@example.com" || sale.Mark != store.MarkSilent {
			t.Fatalf("the sale: %+v / %+v", sale, h)
		}
		if string(byID["evt_1Refund"].Previous) != `{"amount_refunded":0,"refunded":false}` {
			t.Fatalf("previous attributes: %s", byID["evt_1Refund"].Previous)
		}
		marks, _ := s.Marks(ctx, id)
		if marks["evt_1Payout"] != store.MarkNotified || marks["evt_1Sale"] != store.MarkSilent || marks["evt_1Refund"] != store.MarkSilent {
			t.Fatalf("marks: %v", marks)
		}
		out, _ := s.Outbox(ctx, id)
		if len(out) != 1 || out[0].ID != "evt_1Failed" {
			t.Fatalf("outbox: %+v", out)
		}
		set, _ := s.Settings(ctx)
		if set.Enabled("failed_payout") || !set.Enabled("payout") || set.Minimum != 5000 || set.QuietFrom != "22:00" {
			t.Fatalf("settings: %+v", set)
		}
		st, _ := s.State(ctx, id)
		if !st.Initialized || st.NewestCreated != 1764000300 {
			t.Fatalf("state: %+v", st)
		}
		// New events go in beside the migrated ones, and nothing is stored twice.
		added, err := s.Ingest(ctx, id, []store.Event{sale, {ID: "evt_1New", Type: "charge.succeeded", Created: 1764000400, Object: []byte(`{"id":"ch_2","amount":100,"currency":"usd"}`)}}, nil, false)
		if err != nil || len(added) != 1-round {
			t.Fatalf("round %d: ingest %d, %v", round, len(added), err)
		}
		s.Close()
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_ = db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket([]byte("meta")).Get([]byte("schema")); string(v) != store.SchemaVersion {
			t.Fatalf("schema %q", v)
		}
		for _, old := range []string{"events", "event_ids", "outbox", "notified"} {
			if tx.Bucket([]byte(old)) != nil {
				t.Fatalf("the schema 1 bucket %s is still there", old)
			}
		}
		return tx.Bucket([]byte("history")).ForEachBucket(func(name []byte) error {
			return tx.Bucket([]byte("history")).Bucket(name).ForEach(func(k, v []byte) error {
				if len(v) < 2 || len(v) < 2+int(v[0]) || v[1+int(v[0])] != 1 {
					t.Fatalf("event %x is not in the compressed form", k)
				}
				return nil
			})
		})
	})
}
