package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"runtime/debug"
)

// ErrDamaged means the store file is not a sound bbolt file: cut short by a
// full disk or a crash, or overwritten in part. Open moves such a file aside;
// a store found damaged while running asks for a restart to do the same.
var ErrDamaged = errors.New("the store is damaged")

// The bbolt file format, as far as checkMeta reads it (go.etcd.io/bbolt,
// internal/common/meta.go and page.go): pages 0 and 1 each hold a meta
// record after a 16-byte page header; the one with the higher transaction id
// and a good checksum describes the file.
const (
	boltMagic      = 0xED0CDAED
	boltVersion    = 2
	pageHeaderSize = 16
	metaSumOffset  = 56 // the checksum covers the meta's first 56 bytes
	metaSize       = 64
	minPageSize    = 512
	maxPageSize    = 1 << 16
	noFreelist     = ^uint64(0) // freelist pgid of a file that does not store it
)

type boltMeta struct {
	pageSize uint32
	root     uint64
	freelist uint64
	pgid     uint64 // the high water mark: every page below it is in the file
	txid     uint64
}

func readMeta(b []byte) (boltMeta, bool) {
	if len(b) < metaSize {
		return boltMeta{}, false
	}
	le := binary.LittleEndian
	h := fnv.New64a()
	h.Write(b[:metaSumOffset])
	if le.Uint32(b[0:]) != boltMagic || le.Uint32(b[4:]) != boltVersion || le.Uint64(b[metaSumOffset:]) != h.Sum64() {
		return boltMeta{}, false
	}
	return boltMeta{pageSize: le.Uint32(b[8:]), root: le.Uint64(b[16:]), freelist: le.Uint64(b[32:]),
		pgid: le.Uint64(b[40:]), txid: le.Uint64(b[48:])}, true
}

// checkMeta reads a store file's meta pages and checks the file against
// them before bbolt maps it: a file shorter than its own high water mark
// would fault on the first read past its end (SIGBUS), and pointers past the
// mark would be followed into garbage. A missing or empty file is fine: it
// becomes a new store.
func checkMeta(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return nil // bbolt says what is wrong with opening it
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil || info.Size() == 0 {
		return nil
	}
	size := info.Size()
	first := make([]byte, pageHeaderSize+metaSize)
	if _, err := io.ReadFull(f, first); err != nil {
		return fmt.Errorf("%w: the file is only %d bytes long", ErrDamaged, size)
	}
	var metas []boltMeta
	m0, ok0 := readMeta(first[pageHeaderSize:])
	if ok0 {
		metas = append(metas, m0)
	}
	// The second meta page sits one page in; its size comes from a good
	// first meta, else each possible size is tried.
	sizes := []uint32{m0.pageSize}
	if !ok0 {
		sizes = []uint32{4096, 16384, 65536, 8192, 1024, 2048, 32768, 512}
	}
	for _, ps := range sizes {
		if ps < minPageSize || ps > maxPageSize || ps&(ps-1) != 0 {
			continue
		}
		second := make([]byte, metaSize)
		if _, err := f.ReadAt(second, int64(ps)+pageHeaderSize); err != nil {
			continue
		}
		if m1, ok := readMeta(second); ok && m1.pageSize == ps {
			metas = append(metas, m1)
			break
		}
	}
	if len(metas) == 0 {
		return fmt.Errorf("%w: neither of its two meta pages is readable", ErrDamaged)
	}
	m := metas[0]
	for _, x := range metas[1:] {
		if x.txid > m.txid {
			m = x
		}
	}
	switch {
	case m.pageSize < minPageSize || m.pageSize > maxPageSize || m.pageSize&(m.pageSize-1) != 0:
		return fmt.Errorf("%w: its page size %d is impossible", ErrDamaged, m.pageSize)
	case m.pgid < 4 || m.pgid > uint64(size)/uint64(m.pageSize):
		return fmt.Errorf("%w: it is %d bytes long but its pages reach %d bytes (cut short?)", ErrDamaged, size, m.pgid*uint64(m.pageSize))
	case m.root < 2 || m.root >= m.pgid:
		return fmt.Errorf("%w: its root page %d is outside the file", ErrDamaged, m.root)
	case m.freelist != noFreelist && (m.freelist < 2 || m.freelist >= m.pgid):
		return fmt.Errorf("%w: its freelist page %d is outside the file", ErrDamaged, m.freelist)
	}
	return nil
}

// guard runs f, turning a panic or a memory fault inside bbolt (how it
// reacts to pages that are not what they should be) into ErrDamaged.
func guard(f func() error) (err error) {
	old := debug.SetPanicOnFault(true)
	defer func() {
		debug.SetPanicOnFault(old)
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %v", ErrDamaged, r)
		}
	}()
	return f()
}
