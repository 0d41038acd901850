package rating

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

// parseInChunks collects what ParseRatesChunks hands over, copying each
// chunk as its contract asks, and the sizes of the chunks.
func parseInChunks(deck string, t Table, loc *time.Location, chunk int) ([]Row, []int, int, error) {
	var rows []Row
	var sizes []int
	n, err := ParseRatesChunks(strings.NewReader(deck), t, loc, chunk, func(c []Row) error {
		rows = append(rows, c...)
		sizes = append(sizes, len(c))
		return nil
	})
	return rows, sizes, n, err
}

// TestParseRatesChunksAgree reads decks, good and bad, in chunks of every
// size from one row to more than the deck: the rows and the errors are
// ParseRates', and each chunk is full but the last.
func TestParseRatesChunksAgree(t *testing.T) {
	tb := NewTable("t", Outbound, "EUR")
	for _, deck := range []string{
		"prefix,rate\n",
		"prefix,rate,effective_from\n44,1,\n441,2,\n442,3,2025-07-01\n*,1,\n12345678901234567,1,\n12345678901234568,1,\n",
		"prefix,rate\n1,1\n2,1\n3,1\n4,1\n5,1\n6,1\n7,x\n",
		"prefix,rate\n1,1\n2,1\n3,1\n4,1\n5,1\n6,1\n1,2\n",
		"prefix,rate\n1,x\n2,1\n3,1\n",
		"code;price\n44;0,5\n\n33;1,25\n",
	} {
		want, wantErr := ParseRates(strings.NewReader(deck), tb, time.UTC)
		for chunk := 1; chunk <= 8; chunk++ {
			got, sizes, n, err := parseInChunks(deck, tb, time.UTC, chunk)
			if !reflect.DeepEqual(err, wantErr) {
				t.Fatalf("%q in chunks of %d: error %v, want %v", deck, chunk, err, wantErr)
			}
			if err != nil {
				if n != 0 {
					t.Errorf("%q in chunks of %d: %d rows with an error", deck, chunk, n)
				}
				continue
			}
			if n != len(want) || !(len(got) == 0 && len(want) == 0 || reflect.DeepEqual(got, want)) {
				t.Errorf("%q in chunks of %d: %d rows %+v, want %+v", deck, chunk, n, got, want)
			}
			for i, size := range sizes {
				if size < 1 || size > chunk || (size < chunk && i < len(sizes)-1) {
					t.Errorf("%q in chunks of %d: sizes %v", deck, chunk, sizes)
				}
			}
		}
	}
}

// TestParseRatesChunksStop checks that an error from fn ends the parse as
// it is, and that no chunk follows a bad line.
func TestParseRatesChunksStop(t *testing.T) {
	tb := NewTable("t", Outbound, "EUR")
	var b strings.Builder
	b.WriteString("prefix,rate\n")
	for i := range 100 {
		fmt.Fprintf(&b, "%d,1\n", 100+i)
	}
	stop := errors.New("disk full")
	calls := 0
	n, err := ParseRatesChunks(strings.NewReader(b.String()), tb, nil, 10, func([]Row) error {
		if calls++; calls == 3 {
			return stop
		}
		return nil
	})
	if err != stop || n != 0 || calls != 3 {
		t.Errorf("got %d rows, %v after %d calls; want the error of call 3", n, err, calls)
	}

	deck := b.String() + "1,x\n" + strings.TrimPrefix(b.String(), "prefix,rate\n")
	var got int
	_, err = ParseRatesChunks(strings.NewReader(deck), tb, nil, 10, func(c []Row) error {
		got += len(c)
		return nil
	})
	if ErrorCode(err) != EInvalid || got != 100 {
		t.Errorf("bad line 102: %d rows handed over, %v; want the 100 before it and an error", got, err)
	}
}

// FuzzParseRatesChunks holds ParseRatesChunks, in small chunks, to
// ParseRates: the same rows and the same error for any deck.
func FuzzParseRatesChunks(f *testing.F) {
	addSampleDecks(f, func(deck string) { f.Add(deck, uint8(0x34)) })
	f.Add("prefix,rate\n1,1\n2,1\n1,1\n", uint8(0x11))
	f.Fuzz(func(t *testing.T, deck string, settings uint8) {
		tb := NewTable("fuzz", Outbound, "EUR")
		tb.Decimals = int(settings&0xf) % 9
		chunk := 1 + int(settings>>4)
		want, wantErr := ParseRates(strings.NewReader(deck), tb, time.UTC)
		got, _, n, err := parseInChunks(deck, tb, time.UTC, chunk)
		if !reflect.DeepEqual(err, wantErr) {
			t.Fatalf("chunks of %d: %v; ParseRates: %v", chunk, err, wantErr)
		}
		if err == nil && (n != len(want) || len(got) != len(want) || len(got) > 0 && !reflect.DeepEqual(got, want)) {
			t.Fatalf("chunks of %d: %d rows %+v; ParseRates: %+v", chunk, n, got, want)
		}
	})
}

func BenchmarkParseRatesChunks(b *testing.B) {
	deck := genDeck(1_000_000, true)
	t := NewTable("retail", Outbound, "EUR")
	b.SetBytes(int64(len(deck)))
	b.ReportAllocs()
	for b.Loop() {
		n, err := ParseRatesChunks(bytes.NewReader(deck), t, time.UTC, 1<<16, func([]Row) error { return nil })
		if err != nil || n != 999_999 {
			b.Fatalf("%d rows, %v", n, err)
		}
	}
}
