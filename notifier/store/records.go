package store

// The store's small records: each account's metadata (mirrored to a sidecar
// file that survives a damaged store), the settings, and each account's poll
// state.

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/cashbell/cashbell/accounts"
)

// PollState is what the poller remembers about an account between polls.
type PollState struct {
	Initialized   bool  `json:"initialized"`       // the first import is done
	Rebuild       bool  `json:"rebuild,omitempty"` // refill 30 days (after a corrupt store, or after a first import)
	NewestCreated int64 `json:"newest_created"`    // creation time of the newest event seen
	// QuietThrough is, during a refill, the creation time up to which events
	// are stored silently; later ones are news. Zero: all are silent, since
	// a damaged store cannot say what was told.
	QuietThrough int64 `json:"quiet_through,omitempty"`
}

var _ accounts.Records = (*Store)(nil)

// SaveAccount writes an account's metadata and mirrors all accounts to the
// sidecar file that survives a damaged store.
func (s *Store) SaveAccount(ctx context.Context, a accounts.Account) error {
	if err := s.update(ctx, func(tx *bolt.Tx) error { return putAccountTx(tx, a) }); err != nil {
		return err
	}
	return s.writeSidecar(ctx)
}

// putAccountTx writes an account's metadata and makes its buckets.
func putAccountTx(tx *bolt.Tx, a accounts.Account) error {
	data, err := json.Marshal(a)
	if err != nil {
		return err
	}
	if err := tx.Bucket(bucketAccounts).Put([]byte(a.ID), data); err != nil {
		return err
	}
	return accountBucketsTx(tx, a.ID)
}

func accountBucketsTx(tx *bolt.Tx, id string) error {
	for _, name := range perAccount {
		if _, err := tx.Bucket(name).CreateBucketIfNotExists([]byte(id)); err != nil {
			return err
		}
	}
	return nil
}

// Accounts lists every account, by name.
func (s *Store) Accounts(ctx context.Context) ([]accounts.Account, error) {
	var out []accounts.Account
	err := s.view(ctx, func(tx *bolt.Tx) error {
		return tx.Bucket(bucketAccounts).ForEach(func(_, v []byte) error {
			var a accounts.Account
			if err := json.Unmarshal(v, &a); err != nil {
				return fmt.Errorf("reading an account: %w", err)
			}
			out = append(out, a)
			return nil
		})
	})
	slices.SortStableFunc(out, func(a, b accounts.Account) int { return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.ID, b.ID)) })
	return out, err
}

// DeleteAccount removes an account with all its events, state and marks.
func (s *Store) DeleteAccount(ctx context.Context, id string) error {
	err := s.update(ctx, func(tx *bolt.Tx) error {
		if err := tx.Bucket(bucketAccounts).Delete([]byte(id)); err != nil {
			return err
		}
		if err := tx.Bucket(bucketState).Delete([]byte(id)); err != nil {
			return err
		}
		for _, name := range perAccount {
			if err := tx.Bucket(name).DeleteBucket([]byte(id)); err != nil && !errors.Is(err, bolterrors.ErrBucketNotFound) {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return s.writeSidecar(ctx)
}

func (s *Store) sidecarPath() string { return s.path + ".accounts.json" }

func (s *Store) writeSidecar(ctx context.Context) error {
	all, err := s.Accounts(ctx)
	if err != nil {
		return err
	}
	data, _ := json.MarshalIndent(all, "", "  ")
	tmp := s.sidecarPath() + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return fmt.Errorf("%w: %v", ErrReadOnly, err)
	}
	return os.Rename(tmp, s.sidecarPath())
}

// restoreAccounts brings accounts back from the sidecar into a store that has
// none, and asks the poller to rebuild their history silently.
func (s *Store) restoreAccounts() error {
	empty := true
	_ = s.db.View(func(tx *bolt.Tx) error {
		k, _ := tx.Bucket(bucketAccounts).Cursor().First()
		empty = k == nil
		return nil
	})
	if !empty {
		return nil
	}
	data, err := os.ReadFile(s.sidecarPath())
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var all []accounts.Account
	if err := json.Unmarshal(data, &all); err != nil {
		return err
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		for _, a := range all {
			if err := putAccountTx(tx, a); err != nil {
				return err
			}
			if err := putStateTx(tx, a.ID, PollState{Rebuild: true}); err != nil {
				return err
			}
		}
		return nil
	})
}

// Settings returns the global settings, with defaults filled in.
func (s *Store) Settings(ctx context.Context) (Settings, error) {
	set := DefaultSettings()
	err := s.view(ctx, func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucketSettings).Get(keyGlobal); v != nil {
			return json.Unmarshal(v, &set)
		}
		return nil
	})
	set.upgrade()
	return set, err
}

// SaveSettings writes the global settings.
func (s *Store) SaveSettings(ctx context.Context, set Settings) error {
	data, err := json.Marshal(set)
	if err != nil {
		return err
	}
	return s.update(ctx, func(tx *bolt.Tx) error { return tx.Bucket(bucketSettings).Put(keyGlobal, data) })
}

// State returns an account's poll state.
func (s *Store) State(ctx context.Context, account string) (PollState, error) {
	var st PollState
	err := s.view(ctx, func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucketState).Get([]byte(account)); v != nil {
			if err := json.Unmarshal(v, &st); err != nil {
				return fmt.Errorf("reading poll state: %w", err)
			}
		}
		return nil
	})
	return st, err
}

func putStateTx(tx *bolt.Tx, account string, st PollState) error {
	data, err := json.Marshal(st)
	if err != nil {
		return err
	}
	return tx.Bucket(bucketState).Put([]byte(account), data)
}
