package store

import (
	"bytes"
	"encoding/binary"
	"math"
	"reflect"
	"testing"
	"time"

	"pbxbill/rating"
)

// FuzzRowValue checks that every valid row survives the key and value
// encodings, and that the key rebuilt from a sort key is the same.
func FuzzRowValue(f *testing.F) {
	f.Add("44", "UK", int64(1_250_000), int64(-1), int64(0), 30, 6, -1, int64(1_000_000), int64(-1), int64(1700000000), uint32(0), false)
	f.Add("*", "", int64(0), int64(5), int64(7), -1, -1, 0, int64(-1), int64(100), int64(0), uint32(31<<22|480<<11|1080), true)
	f.Fuzz(func(t *testing.T, prefix, dest string, rate, fee, initRate int64, ii, inc, grace int, minC, maxC, from int64, week uint32, blocked bool) {
		opt := func(v int64) rating.Amount {
			if v < 0 {
				return rating.NoAmount
			}
			return rating.Amount(v)
		}
		r := rating.Row{Prefix: prefix, Destination: dest, Rate: rating.Amount(rate), ConnectFee: opt(fee),
			InitialRate: opt(initRate), InitialIncrement: ii, Increment: inc, Grace: grace,
			MinCost: opt(minC), MaxCost: opt(maxC), Blocked: blocked}
		w := rating.WeekFromKey(week)
		r.Days, r.Hours = w.Days, w.Hours
		if from != 0 {
			r.EffectiveFrom = time.Unix(from, 0).UTC()
		}
		if r.Validate(8) != nil {
			return
		}
		k := appendRateKey(nil, r.Prefix, r.EffectiveFrom, r.Week().Key())
		rk := newRowKey(&r, 0)
		if k2 := rk.appendKey(nil, &r); !bytes.Equal(k2, k) {
			t.Fatalf("key from the sort key %x, from the row %x", k2, k)
		}
		v := appendRowValue(nil, &r)
		var got rating.Row
		if err := decodeRow(k, v, &got, Interner{}); err != nil {
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
	f.Add(appendRateKey(nil, r.Prefix, r.EffectiveFrom, 0), appendRowValue(nil, &r))
	r.Days, r.Hours, r.Blocked = 0b11111, rating.Hours{From: 480, To: 1080}, true
	f.Add(appendRateKey(nil, r.Prefix, r.EffectiveFrom, r.Week().Key()), appendRowValue(nil, &r))
	f.Add([]byte("44\x00"), []byte{0x7f})
	f.Fuzz(func(t *testing.T, k, v []byte) {
		var got rating.Row
		_ = decodeRow(k, v, &got, Interner{})
	})
}

// Money's varint is binary.AppendVarint's bytes for every int64, which
// schema version 1 wrote, and round-trips every 128-bit value.
func FuzzMoneyVarint(f *testing.F) {
	for _, w := range [][2]uint64{{0, 0}, {0, 1}, {math.MaxUint64, math.MaxUint64}, {0, 1 << 63},
		{math.MaxUint64, 1 << 63}, {1, 0}, {math.MaxUint64 >> 1, math.MaxUint64}, {1 << 63, 0}} {
		f.Add(w[0], w[1])
	}
	f.Fuzz(func(t *testing.T, hi, lo uint64) {
		m := rating.MoneyFromWords(int64(hi), lo)
		b := appendMoney(nil, m)
		if v, ok := m.Int64(); ok {
			if want := binary.AppendVarint(nil, v); !bytes.Equal(b, want) {
				t.Fatalf("%d: % x, binary.AppendVarint % x", v, b, want)
			}
		}
		if len(b) > maxMoneyLen {
			t.Fatalf("%s: %d bytes", m, len(b))
		}
		got, n := readMoney(append(b, 0xff)) // what follows is not read
		if n != len(b) || got != m {
			t.Fatalf("%x:%x: % x reads as %s in %d bytes", hi, lo, b, got, n)
		}
		if _, n := readMoney(b[:len(b)-1]); n > 0 {
			t.Fatalf("% x: a cut varint reads", b)
		}
	})
}

// FuzzReadMoney feeds arbitrary bytes to readMoney: it reads what
// appendMoney would write the same way, or reports n ≤ 0, never panics.
func FuzzReadMoney(f *testing.F) {
	f.Add([]byte{0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x02})
	f.Add(bytes.Repeat([]byte{0xff}, 19))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, n := readMoney(b)
		if n <= 0 {
			return
		}
		if n > len(b) || n > maxMoneyLen {
			t.Fatalf("% x: read %d bytes", b, n)
		}
		// A canonical varint reads back to the same bytes.
		if b[n-1] != 0 || n == 1 {
			if enc := appendMoney(nil, m); !bytes.Equal(enc, b[:n]) {
				t.Fatalf("% x reads as %s, which writes % x", b[:n], m, enc)
			}
		}
	})
}

func TestMoneyVarintEdges(t *testing.T) {
	for _, s := range []string{"0", "-0.00000001", "92233720368.54775807", "92233720368.54775808",
		"-92233720368.54775808", "-92233720368.54775809", "1000000000000000000", "-1000000000000000000"} {
		m, err := rating.ParseMoney(s)
		if err != nil {
			t.Fatal(err)
		}
		if got, n := readMoney(appendMoney(nil, m)); got != m || n <= 0 {
			t.Errorf("%s reads back as %s", s, got)
		}
	}
	if len(appendMoney(nil, rating.MaxMoney)) != 13 {
		t.Errorf("MaxMoney takes %d bytes", len(appendMoney(nil, rating.MaxMoney)))
	}
	// 19 bytes whose last carries more than the 128th bit is corrupt.
	if _, n := readMoney(append(bytes.Repeat([]byte{0xff}, 18), 0x04)); n > 0 {
		t.Error("a varint past 128 bits reads")
	}
}
