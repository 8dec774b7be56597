package store

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"

	"github.com/klauspost/compress/zstd"
)

// Events are stored whole, as Stripe sent them, so that a field Cashbell
// starts to read tomorrow is already there. They are compressed with zstd
// and a dictionary of Stripe's own object shapes, which takes a stored event
// from about 1.7 KB to a few hundred bytes.
//
// A stored value is the event's id (a length byte, then the id, so that
// de-duplication needs no unpacking), one byte for the codec, and the rest of
// the event: codecZstd1 is zstd with eventdict.txt. The dictionary is part of
// the file format: it never changes; a better one would be a new codec.

// eventDict1 is Stripe's example objects from the public stripe/openapi
// repository (openapi/fixtures3.json at commit fda9183b for API version
// 2023-10-16 and at af5309ca for 2026-07-29.dahlia): account, balance
// transaction, payout, dispute, early fraud warning, refund, invoice,
// subscription, payment intent and charge, compacted, then the envelope
// Cashbell stores around an object.
//
//go:embed eventdict.txt
var eventDict1 []byte

const (
	codecZstd1 byte   = 1
	dictID1    uint32 = 0xCA5B_0001
)

// The encoder and decoder are built on first use, small: an idle Cashbell
// that stores nothing new should not carry zstd's buffers.
var (
	codecOnce sync.Once
	encoder   *zstd.Encoder
	decoder   *zstd.Decoder
)

func codecs() (*zstd.Encoder, *zstd.Decoder) {
	codecOnce.Do(func() {
		var err error
		encoder, err = zstd.NewWriter(nil, zstd.WithEncoderDictRaw(dictID1, eventDict1), zstd.WithEncoderLevel(zstd.SpeedFastest),
			zstd.WithEncoderCRC(false), zstd.WithEncoderConcurrency(1), zstd.WithWindowSize(256<<10), zstd.WithLowerEncoderMem(true))
		if err != nil {
			panic(err)
		}
		decoder, err = zstd.NewReader(nil, zstd.WithDecoderDictRaw(dictID1, eventDict1), zstd.WithDecoderConcurrency(1),
			zstd.WithDecoderLowmem(true), zstd.WithDecoderMaxMemory(64<<20))
		if err != nil {
			panic(err)
		}
	})
	return encoder, decoder
}

// plainPool holds buffers for unpacked events.
var plainPool = sync.Pool{New: func() any { b := make([]byte, 0, 4<<10); return &b }}

// markCodes are how marks are written in the marks bucket.
var markCodes = map[Mark]byte{"": 0, MarkSilent: 1, MarkNotified: 2, MarkSummarised: 3, MarkSkipped: 4, MarkRepeat: 5}

func markOf(code byte) Mark {
	for m, c := range markCodes {
		if c == code {
			return m
		}
	}
	return ""
}

// encodeEvent writes an event as it is stored.
func encodeEvent(e Event) ([]byte, error) {
	if len(e.ID) > 255 {
		return nil, fmt.Errorf("an event id of %d bytes", len(e.ID))
	}
	plain, err := appendEventJSON(make([]byte, 0, 96+len(e.Object)+len(e.Previous)), e) // without the id, which goes in front
	if err != nil {
		return nil, err
	}
	head := append([]byte{byte(len(e.ID))}, e.ID...)
	enc, _ := codecs()
	return enc.EncodeAll(plain, append(head, codecZstd1)), nil
}

// appendEventJSON writes what json.Marshal writes of an event, without
// checking its object again: Object and Previous are compact JSON, as
// toEvents made them, and are written as they are (json.Marshal would
// validate and compact each again, which cost a third of an ingest).
func appendEventJSON(b []byte, e Event) ([]byte, error) {
	object := e.Object
	if len(object) == 0 {
		object = json.RawMessage("null")
	}
	if !e.Checked && (!json.Valid(object) || len(e.Previous) > 0 && !json.Valid(e.Previous)) {
		return nil, fmt.Errorf("event %s: its object is not JSON", e.ID)
	}
	typ, _ := json.Marshal(e.Type)
	b = append(append(append(b, `{"type":`...), typ...), `,"created":`...)
	b = strconv.AppendInt(b, e.Created, 10)
	b = strconv.AppendBool(append(b, `,"livemode":`...), e.Livemode)
	if e.APIVersion != "" {
		version, _ := json.Marshal(e.APIVersion)
		b = append(append(b, `,"api_version":`...), version...)
	}
	b = append(append(b, `,"object":`...), object...)
	if len(e.Previous) > 0 {
		b = append(append(b, `,"previous":`...), e.Previous...)
	}
	return append(b, '}'), nil
}

// valueHead reads a stored value's id, and where the codec starts.
func valueHead(v []byte) (string, int, bool) {
	if len(v) < 2 || len(v) < 2+int(v[0]) {
		return "", 0, false
	}
	n := int(v[0])
	return string(v[1 : 1+n]), 1 + n, true
}

// decodeValue reads a stored value into an event.
func decodeValue(v []byte, e *Event) error {
	id, at, ok := valueHead(v)
	if !ok || v[at] != codecZstd1 {
		return fmt.Errorf("%w: an event is written in no form Cashbell knows", ErrDamaged)
	}
	_, dec := codecs()
	// json.Unmarshal copies what it keeps, so the unpacked text can be
	// reused for the next event.
	buf := plainPool.Get().(*[]byte)
	defer plainPool.Put(buf)
	plain, err := dec.DecodeAll(v[at+1:], (*buf)[:0])
	if err != nil {
		return fmt.Errorf("%w: an event cannot be unpacked (%v)", ErrDamaged, err)
	}
	*buf = plain
	if err := json.Unmarshal(plain, e); err != nil {
		return fmt.Errorf("%w: an event cannot be read (%v)", ErrDamaged, err)
	}
	e.ID = id
	return nil
}
