package store

import (
	"bytes"
	"reflect"
	"testing"
	"time"

	"pbxbill/rating"
)

// FuzzRowValue checks that every valid row survives the key and value
// encodings, and that the key rebuilt from a sort key is the same.
func FuzzRowValue(f *testing.F) {
	f.Add("44", "UK", int64(1_250_000), int64(-1), int64(0), 30, 6, -1, int64(1_000_000), int64(-1), int64(1700000000))
	f.Add("*", "", int64(0), int64(5), int64(7), -1, -1, 0, int64(-1), int64(100), int64(0))
	f.Fuzz(func(t *testing.T, prefix, dest string, rate, fee, initRate int64, ii, inc, grace int, minC, maxC, from int64) {
		opt := func(v int64) rating.Amount {
			if v < 0 {
				return rating.NoAmount
			}
			return rating.Amount(v)
		}
		r := rating.Row{Prefix: prefix, Destination: dest, Rate: rating.Amount(rate), ConnectFee: opt(fee),
			InitialRate: opt(initRate), InitialIncrement: ii, Increment: inc, Grace: grace,
			MinCost: opt(minC), MaxCost: opt(maxC)}
		if from != 0 {
			r.EffectiveFrom = time.Unix(from, 0).UTC()
		}
		if r.Validate(8) != nil {
			return
		}
		k := appendRateKey(nil, r.Prefix, r.EffectiveFrom)
		rk := newRowKey(&r, 0)
		if k2 := rk.appendKey(nil, &r); !bytes.Equal(k2, k) {
			t.Fatalf("key from the sort key %x, from the row %x", k2, k)
		}
		v := appendRowValue(nil, &r)
		var got rating.Row
		if err := decodeRow(k, v, &got, interner{}); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, r) {
			t.Fatalf("round trip\n got %+v\nwant %+v", got, r)
		}
	})
}

// FuzzDecodeRow feeds arbitrary stored bytes to the decoder: it reports
// corruption, never panics.
func FuzzDecodeRow(f *testing.F) {
	r := fullRow("447", time.Unix(1700000000, 0))
	f.Add(appendRateKey(nil, r.Prefix, r.EffectiveFrom), appendRowValue(nil, &r))
	f.Add([]byte("44\x00"), []byte{0x7f})
	f.Fuzz(func(t *testing.T, k, v []byte) {
		var got rating.Row
		_ = decodeRow(k, v, &got, interner{})
	})
}
