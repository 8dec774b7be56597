package accounts

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/zalando/go-keyring"

	"github.com/cashbell/cashbell/internal/atomicfile"
)

// Storage says where a key is kept.
type Storage string

// Places a key can be kept.
const (
	StorageKeyring Storage = "keyring" // the OS keyring (Secret Service, Keychain, Credential Manager)
	StorageFile    Storage = "file"    // a mode-0600 file beside the store, where no keyring answers
)

// ErrKeyNotStored means no key is stored for an account.
var ErrKeyNotStored = errors.New("no key is stored for this account: add it again with its key")

// keyringService is the service name Cashbell's keys are stored under.
const keyringService = "Cashbell"

// keyringTimeout bounds a keyring call: a Secret Service that waits for an
// unlock prompt no one sees must not hang Cashbell.
const keyringTimeout = 3 * time.Second

// Keyring is the OS keyring, as go-keyring reaches it. Tests hand a Vault
// one of their own.
type Keyring interface {
	Get(service, user string) (string, error)
	Set(service, user, password string) error
	Delete(service, user string) error
}

// osKeyring is the system keyring through go-keyring: the Secret Service on
// Linux, the Keychain on macOS, the Credential Manager on Windows.
type osKeyring struct{}

func (osKeyring) Get(service, user string) (string, error) { return keyring.Get(service, user) }
func (osKeyring) Set(service, user, password string) error {
	return keyring.Set(service, user, password)
}
func (osKeyring) Delete(service, user string) error { return keyring.Delete(service, user) }

// Vault keeps keys in the OS keyring when one answers, and otherwise in a file
// of mode 0600. It never writes a key anywhere else.
type Vault struct {
	keyring    Keyring
	useKeyring bool
	file       string
	mu         sync.Mutex
}

// OpenVault probes the OS keyring and returns a Vault that uses it, or the file
// at path when the keyring does not answer or forceFile is set.
func OpenVault(path string, forceFile bool) *Vault {
	if forceFile {
		return &Vault{file: path}
	}
	return OpenVaultOn(path, osKeyring{})
}

// OpenVaultOn is OpenVault with a given keyring; nil means none.
func OpenVaultOn(path string, kr Keyring) *Vault {
	v := &Vault{file: path, keyring: kr}
	if kr != nil {
		_, err := withTimeout(func() (string, error) { return kr.Get(keyringService, "cashbell-probe") })
		v.useKeyring = err == nil || errors.Is(err, keyring.ErrNotFound)
	}
	return v
}

// Where is where new keys go.
func (v *Vault) Where() Storage {
	if v.useKeyring {
		return StorageKeyring
	}
	return StorageFile
}

// Describe is a sentence for the user about where keys are kept.
func (v *Vault) Describe() string {
	if v.useKeyring {
		return "Keys are kept in your system keyring."
	}
	return "No system keyring answered, so keys are kept in " + v.file + ", readable only by you."
}

// KeyNote says where one key actually went, which is not always where new
// keys go: a keyring can answer the probe and still refuse a key.
func (v *Vault) KeyNote(where Storage) string {
	switch {
	case where == StorageKeyring:
		return "The key is kept in your system keyring."
	case v.useKeyring:
		return "Your system keyring refused the key, so it is kept in " + v.file + ", readable only by you."
	}
	return "No system keyring answered, so the key is kept in " + v.file + ", readable only by you."
}

// Summary is a sentence about where the keys of these accounts are: it names
// the accounts whose keys are not where new keys go.
func (v *Vault) Summary(list []Account) string {
	var elsewhere []string
	for _, a := range list {
		if a.KeyStorage != "" && a.KeyStorage != v.Where() {
			elsewhere = append(elsewhere, a.Name)
		}
	}
	switch {
	case len(elsewhere) == 0:
		return v.Describe()
	case v.useKeyring:
		return "Keys are kept in your system keyring, except the keys of " + strings.Join(elsewhere, ", ") +
			": the keyring refused them, so they are kept in " + v.file + ", readable only by you."
	}
	return v.Describe() + " The keys of " + strings.Join(elsewhere, ", ") +
		" are in a system keyring that does not answer now; add them again if Cashbell cannot read them."
}

// Put stores the key for account id and reports where it went.
func (v *Vault) Put(id string, key Key) (Storage, error) {
	if v.useKeyring {
		if _, err := withTimeout(func() (string, error) { return "", v.keyring.Set(keyringService, id, key.Reveal()) }); err == nil {
			return StorageKeyring, nil
		}
		// A keyring that answered the probe but refuses to store: fall back.
	}
	err := v.updateFile(func(m map[string]string) { m[id] = key.Reveal() })
	if err != nil {
		return "", err
	}
	return StorageFile, nil
}

// Get returns the key for account id from where it was stored.
func (v *Vault) Get(id string, where Storage) (Key, error) {
	var secret string
	var err error
	if where == StorageKeyring {
		if v.keyring == nil {
			return Key{}, fmt.Errorf("the key is in a system keyring that Cashbell cannot reach now: %w", ErrKeyNotStored)
		}
		secret, err = withTimeout(func() (string, error) { return v.keyring.Get(keyringService, id) })
		if errors.Is(err, keyring.ErrNotFound) {
			return Key{}, ErrKeyNotStored
		}
		if err != nil {
			return Key{}, fmt.Errorf("the system keyring did not give the key back (is it locked?): %w", err)
		}
	} else {
		v.mu.Lock()
		m, ferr := v.readFile()
		v.mu.Unlock()
		if ferr != nil {
			return Key{}, ferr
		}
		var ok bool
		if secret, ok = m[id]; !ok {
			return Key{}, ErrKeyNotStored
		}
	}
	return ParseKey(secret)
}

// Delete removes the key for account id from both places.
func (v *Vault) Delete(id string) error {
	if v.useKeyring {
		_, err := withTimeout(func() (string, error) { return "", v.keyring.Delete(keyringService, id) })
		if err != nil && !errors.Is(err, keyring.ErrNotFound) {
			return fmt.Errorf("removing the key from the system keyring: %w", err)
		}
	}
	return v.updateFile(func(m map[string]string) { delete(m, id) })
}

func (v *Vault) readFile() (map[string]string, error) {
	m := map[string]string{}
	data, err := os.ReadFile(v.file)
	if errors.Is(err, fs.ErrNotExist) {
		return m, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the key file: %w", err)
	}
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("the key file %s is damaged: remove it and add your accounts' keys again", v.file)
	}
	return m, nil
}

// updateFile rewrites the key file atomically with mode 0600.
func (v *Vault) updateFile(change func(map[string]string)) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	m, err := v.readFile()
	if err != nil {
		return err
	}
	change(m)
	if len(m) == 0 {
		if err := os.Remove(v.file); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("removing the key file: %w", err)
		}
		return nil
	}
	data, _ := json.Marshal(m)
	if err := os.MkdirAll(filepath.Dir(v.file), 0o700); err != nil {
		return fmt.Errorf("creating %s: %w", filepath.Dir(v.file), err)
	}
	if err := atomicfile.Write(v.file, data, 0o600); err != nil {
		return fmt.Errorf("writing the key file: %w", err)
	}
	return nil
}

func withTimeout(f func() (string, error)) (string, error) {
	type result struct {
		s   string
		err error
	}
	ch := make(chan result, 1)
	go func() {
		s, err := f()
		ch <- result{s, err}
	}()
	select {
	case r := <-ch:
		return r.s, r.err
	case <-time.After(keyringTimeout):
		return "", errors.New("the system keyring did not answer")
	}
}
