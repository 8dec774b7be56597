package store

// The store is one bbolt file, mode 0600, under the user's config directory.
// This file owns its layout, opening it (damage.go checks the file first),
// and moving an older layout forward (migrate.go). records.go, events.go and
// outbox.go own what is in it:
//
//	meta/
//	    schema            -> "2"
//	accounts/
//	    <account id>      -> JSON accounts.Account (no key)
//	settings/
//	    global            -> JSON Settings
//	state/
//	    <account id>      -> JSON PollState
//	history/
//	    <account id>/     one bucket per account
//	        <created:8><seq:8> -> the event's id, then the event, compressed (codec.go)
//	                              big-endian, so keys sort by time
//	marks/
//	    <account id>/
//	        <history key> -> a Mark's code       how it was handled
//	details/
//	    <account id>/
//	        <object id>   -> JSON Facts          what enrichment learnt (facts.go)
//	pending/
//	    <account id>/
//	        <history key> -> nil               stored, not yet notified
//	told/
//	    <account id>/
//	        <happening key> -> event id        a happening already told (outbox.go)
//	subs/
//	    <account id>/
//	        <subscription id> -> as of, JSON   its newest state, for MRR (subs.go)
//	balance/
//	    <account id>/
//	        <created:8><txn id> -> packed Balance  net in the payout currency (balance.go)
//
// An event, its pending entry and the poll state that moves past it
// are written in one transaction; an event leaves pending in the same
// transaction that records how it was notified, before the notification is
// sent, so a crash can lose a notification but never show one twice.

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// SchemaVersion is the layout version written into meta/schema.
const SchemaVersion = "2"

var (
	// bucketMeta holds the schema version.
	bucketMeta = []byte("meta")
	// keySchema is the schema version's key in bucketMeta.
	keySchema = []byte("schema")
	// bucketAccounts holds account metadata by account id.
	bucketAccounts = []byte("accounts")
	// bucketSettings holds the global settings.
	bucketSettings = []byte("settings")
	// keyGlobal is the global settings' key in bucketSettings.
	keyGlobal = []byte("global")
	// bucketState holds each account's poll state.
	bucketState = []byte("state")
	// bucketHistory holds one bucket of events per account, in time order.
	bucketHistory = []byte("history")
	// bucketPending lists stored events not yet notified, per account.
	bucketPending = []byte("pending")
	// bucketMarks records how each event was handled, per account.
	bucketMarks = []byte("marks")

	topBuckets = [][]byte{bucketMeta, bucketAccounts, bucketSettings, bucketState, bucketHistory, bucketPending, bucketMarks, bucketFacts, bucketTold, bucketSubs, bucketBalance}
	perAccount = [][]byte{bucketHistory, bucketPending, bucketMarks, bucketFacts, bucketTold, bucketSubs, bucketBalance}
)

// Store errors.
var (
	ErrAlreadyRunning = errors.New("another Cashbell is already running (it holds the store's lock): use that one, or quit it first")
	ErrStoreNewer     = errors.New("this store was written by a newer Cashbell: update Cashbell, or move the store aside to start afresh")
	ErrReadOnly       = errors.New("the store cannot be written (read-only folder or disk?): free some space or fix the folder's permissions, then restart Cashbell")
)

// Store is Cashbell's bbolt store.
type Store struct {
	db        *bolt.DB
	path      string
	recovered string // where a corrupt file was moved, if it was
}

// OpenOptions configure Open.
type OpenOptions struct {
	Timeout time.Duration // how long to wait for the lock; 1 s when zero
	Logger  *slog.Logger
}

// Open opens or creates the store at path. A locked file gives
// ErrAlreadyRunning. A file that is not a readable bbolt store is moved aside
// (see Recovered) and a new one is created; accounts are restored from the
// sidecar copy so their history can be rebuilt from Stripe.
func Open(path string, opts OpenOptions) (*Store, error) {
	opts.Timeout = cmp.Or(opts.Timeout, time.Second)
	opts.Logger = cmp.Or(opts.Logger, slog.New(slog.DiscardHandler))
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrReadOnly, err)
	}
	s, err := openChecked(path, opts.Timeout)
	if errors.Is(err, ErrAlreadyRunning) || errors.Is(err, ErrStoreNewer) || errors.Is(err, ErrReadOnly) {
		return s, err
	}
	if err != nil {
		aside := fmt.Sprintf("%s.corrupt-%s", path, time.Now().UTC().Format("20060102T150405"))
		if rerr := os.Rename(path, aside); rerr != nil {
			return nil, fmt.Errorf("the store %s is damaged (%v) and could not be moved aside: %w", path, err, rerr)
		}
		_ = os.Remove(damagedMark(path))
		opts.Logger.Warn("store was damaged; moved aside and starting afresh", "path", path, "moved_to", aside, "err", err)
		if s, err = openChecked(path, opts.Timeout); err != nil {
			return nil, err
		}
		s.recovered = aside
	}
	// A file emptied by a crash or a full disk opens as a new store, and a
	// damaged one starts afresh: bring the accounts back from the sidecar.
	if err := s.restoreAccounts(); err != nil {
		opts.Logger.Warn("accounts not restored", "err", err)
	}
	return s, nil
}

// damagedMark is a file beside the store that says the store was found
// damaged while in use; the next Open moves the store aside.
func damagedMark(path string) string { return path + ".damaged" }

// openChecked opens the store only once its file looks sound, and turns
// whatever bbolt does on a damaged file into ErrDamaged.
func openChecked(path string, timeout time.Duration) (*Store, error) {
	if _, err := os.Stat(damagedMark(path)); err == nil {
		return nil, fmt.Errorf("%w: it was found damaged while Cashbell ran", ErrDamaged)
	}
	if err := checkMeta(path); err != nil {
		return nil, err
	}
	var s *Store
	err := guard(func() error {
		var err error
		s, err = open(path, timeout)
		return err
	})
	return s, err
}

func open(path string, timeout time.Duration) (*Store, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: timeout, FreelistType: bolt.FreelistMapType, PageSize: 16 << 10})
	if err != nil {
		switch {
		case errors.Is(err, bolterrors.ErrTimeout):
			return nil, ErrAlreadyRunning
		case errors.Is(err, fs.ErrPermission) || isReadOnlyFS(err):
			return nil, fmt.Errorf("%w: %v", ErrReadOnly, err)
		}
		return nil, err
	}
	s := &Store{db: db, path: path}
	if err := s.initialize(); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

func (s *Store) initialize() error {
	var version string
	err := s.db.Update(func(tx *bolt.Tx) error {
		for _, name := range topBuckets {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return fmt.Errorf("creating bucket %s: %w", name, err)
			}
		}
		meta := tx.Bucket(bucketMeta)
		version = string(meta.Get(keySchema))
		if version == "" {
			version = SchemaVersion
			return meta.Put(keySchema, []byte(SchemaVersion))
		}
		return nil
	})
	switch {
	case err != nil:
		return err
	case version == "1":
		return s.migrateFrom1()
	case version != SchemaVersion:
		return ErrStoreNewer
	}
	return nil
}

// keyDigest is, in bucketMeta, the local date the last morning summary was
// sent for.
var keyDigest = []byte("digest")

// LastDigest is the day ("2006-01-02") of the last morning summary sent,
// or "" before the first; MarkDigest records one. Together they send it
// once a day, however often Cashbell starts.
func (s *Store) LastDigest(ctx context.Context) (string, error) {
	var day string
	err := s.view(ctx, func(tx *bolt.Tx) error {
		day = string(tx.Bucket(bucketMeta).Get(keyDigest))
		return nil
	})
	return day, err
}

// MarkDigest records that the morning summary of day was sent.
func (s *Store) MarkDigest(ctx context.Context, day string) error {
	return s.update(ctx, func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Put(keyDigest, []byte(day)) })
}

// Recovered is where a damaged store was moved by Open, or "".
func (s *Store) Recovered() string { return s.recovered }

// Path is the store's file.
func (s *Store) Path() string { return s.path }

// Close closes the store.
func (s *Store) Close() error { return s.db.Close() }

func (s *Store) update(ctx context.Context, f func(*bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	err := s.guard(func() error { return s.db.Update(f) })
	if err != nil && (isReadOnlyFS(err) || isNoSpace(err)) {
		return fmt.Errorf("%w: %v", ErrReadOnly, err)
	}
	return err
}

// updateAccount writes into an account's bucket under top, made if
// missing; an account removed meanwhile gets nothing.
func (s *Store) updateAccount(ctx context.Context, top []byte, account string, f func(*bolt.Bucket) error) error {
	return s.update(ctx, func(tx *bolt.Tx) error {
		if tx.Bucket(bucketAccounts).Get([]byte(account)) == nil {
			return nil // removed meanwhile
		}
		b, err := tx.Bucket(top).CreateBucketIfNotExists([]byte(account))
		if err != nil {
			return err
		}
		return f(b)
	})
}

func (s *Store) view(ctx context.Context, f func(*bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.guard(func() error { return s.db.View(f) })
}

// guard runs a transaction, and when bbolt trips over a damaged page leaves
// a mark so that the next start moves the store aside and rebuilds it. bbolt
// rolls the transaction back as the panic passes.
func (s *Store) guard(f func() error) error {
	err := guard(f)
	if errors.Is(err, ErrDamaged) {
		_ = os.WriteFile(damagedMark(s.path), []byte(err.Error()+"\n"), 0o600)
		return fmt.Errorf("%w: it will be moved aside and your history rebuilt from Stripe when Cashbell next starts (%v)", ErrDamaged, err)
	}
	return err
}

// eachAccount calls f with the bucket under root of each named account, or
// of every account when none are named, in the order of their ids.
func eachAccount(root *bolt.Bucket, accounts []string, f func(account string, b *bolt.Bucket) error) error {
	return root.ForEachBucket(func(k []byte) error {
		if len(accounts) > 0 && !slices.Contains(accounts, string(k)) {
			return nil
		}
		return f(string(k), root.Bucket(k))
	})
}
