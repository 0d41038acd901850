package store

import (
	"encoding/binary"
	"fmt"
	"math"
	"time"

	"pbxbill/rating"
)

// cdrRecord is a CDR as stored under its sequence key. Tenant and provider
// are kept by id once resolved, so a rename keeps the history, and by the
// reference the PBX posted, so an unknown tenant can be resolved by a
// later re-rate.
type cdrRecord struct {
	Start        time.Time
	TenantID     uint64 // 0: not resolved
	ProviderID   uint64 // 0: none
	Status       byte
	Kind         rating.Kind
	Duration     int
	Billed       int
	Cost         rating.Money // NoMoney while unrated
	ProviderCost rating.Money // NoMoney without a buy price
	Received     time.Time
	ID, Node     string
	TenantRef    string
	ProviderRef  string
	Number       string
	Reason       string
	Prefix       string
	RateTable    string
}

// Status bytes.
const (
	statusRated   byte = 1
	statusUnrated byte = 2
)

func statusName(b byte) string {
	if b == statusRated {
		return rating.Rated
	}
	return rating.Unrated
}

// cdrHead is the size of the fixed part that listings filter on without
// decoding the strings: start, tenant, provider, status.
const cdrHead = 8 + 8 + 8 + 1

// noCost is how a cost that is not set is stored: the varint of
// math.MinInt64, schema version 1's NoAmount. Every real cost is ≥ 0.
var noCost = rating.MoneyOf(math.MinInt64)

func encodeCost(m rating.Money) rating.Money {
	if !m.Set() {
		return noCost
	}
	return m
}

func decodeCost(m rating.Money) rating.Money {
	if m == noCost {
		return rating.NoMoney
	}
	return m
}

// encode appends the record: the fixed fields first, then the strings,
// each with a uvarint length. The costs are varints of Money (appendMoney).
// Start and Received are Unix nanoseconds, which hold 1678 to 2262: a
// start is within rating.MinStart and rating.MaxStart (CDR.Validate, which
// PostCDRs runs on every CDR), and Received is the store's clock.
func (r *cdrRecord) encode(dst []byte) []byte {
	dst = binary.BigEndian.AppendUint64(dst, uint64(r.Start.UnixNano()))
	dst = binary.BigEndian.AppendUint64(dst, r.TenantID)
	dst = binary.BigEndian.AppendUint64(dst, r.ProviderID)
	dst = append(dst, r.Status, byte(r.Kind))
	dst = binary.AppendUvarint(dst, uint64(r.Duration))
	dst = binary.AppendUvarint(dst, uint64(r.Billed))
	dst = appendMoney(dst, encodeCost(r.Cost))
	dst = appendMoney(dst, encodeCost(r.ProviderCost))
	dst = binary.AppendVarint(dst, r.Received.UnixNano())
	for _, s := range [...]string{r.ID, r.Node, r.TenantRef, r.ProviderRef, r.Number, r.Reason, r.Prefix, r.RateTable} {
		dst = binary.AppendUvarint(dst, uint64(len(s)))
		dst = append(dst, s...)
	}
	return dst
}

// size bounds the length of the record's encoding.
func (r *cdrRecord) size() int {
	n := cdrHead + 1 + 3*binary.MaxVarintLen64 + 2*maxMoneyLen
	for _, s := range [...]string{r.ID, r.Node, r.TenantRef, r.ProviderRef, r.Number, r.Reason, r.Prefix, r.RateTable} {
		n += binary.MaxVarintLen64 + len(s)
	}
	return n
}

// headOf reads the fixed fields a filter needs.
func headOf(v []byte) (start int64, tenant, provider uint64, status byte) {
	return int64(binary.BigEndian.Uint64(v)), binary.BigEndian.Uint64(v[8:]),
		binary.BigEndian.Uint64(v[16:]), v[24]
}

// decode reads a record written by encode.
func (r *cdrRecord) decode(v []byte) error {
	if len(v) < cdrHead+1 {
		return fmt.Errorf("cdr record: %d bytes", len(v))
	}
	start, tenant, provider, status := headOf(v)
	r.Start = time.Unix(0, start).UTC()
	r.TenantID, r.ProviderID, r.Status, r.Kind = tenant, provider, status, rating.Kind(v[25])
	v = v[cdrHead+1:]
	ok := true
	uv := func() uint64 {
		x, n := binary.Uvarint(v)
		if n <= 0 {
			ok = false
			return 0
		}
		v = v[n:]
		return x
	}
	sv := func() int64 {
		x, n := binary.Varint(v)
		if n <= 0 {
			ok = false
			return 0
		}
		v = v[n:]
		return x
	}
	mv := func() rating.Money {
		m, n := readMoney(v)
		if n <= 0 {
			ok = false
			return rating.Money{}
		}
		v = v[n:]
		return decodeCost(m)
	}
	r.Duration, r.Billed = int(uv()), int(uv())
	r.Cost = mv()
	r.ProviderCost = mv()
	r.Received = time.Unix(0, sv()).UTC()
	for _, s := range [...]*string{&r.ID, &r.Node, &r.TenantRef, &r.ProviderRef, &r.Number, &r.Reason, &r.Prefix, &r.RateTable} {
		n := uv()
		if !ok || n > uint64(len(v)) {
			return fmt.Errorf("cdr record: corrupt strings")
		}
		*s, v = string(v[:n]), v[n:]
	}
	if !ok {
		return fmt.Errorf("cdr record: corrupt numbers")
	}
	return nil
}

// cdrKey is the idempotency key: node, a zero byte, id.
func cdrKey(node, id string) []byte {
	return appendCDRKey(make([]byte, 0, len(node)+1+len(id)), node, id)
}

// cdrKey is cdrKey from the batch's arena.
func (b *batch) cdrKey(node, id string) []byte {
	return appendCDRKey(b.arena.take(len(node)+1+len(id)), node, id)
}

func appendCDRKey(k []byte, node, id string) []byte {
	k = append(k, node...)
	k = append(k, 0)
	return append(k, id...)
}

// dayOf is the installation-zone calendar day of t as YYYYMMDD, the roll-up
// key's day: it sorts, and a person can read it.
func dayOf(t time.Time, loc *time.Location) uint32 {
	y, m, d := t.In(loc).Date()
	return uint32(y*10000 + int(m)*100 + d)
}

// dayTime is the midnight that starts day in loc.
func dayTime(day uint32, loc *time.Location) time.Time {
	return rating.DayStart(int(day/10000), time.Month(day/100%100), int(day%100), loc)
}

// rollupKey is acct | account id | day.
func rollupKey(acct byte, id uint64, day uint32) []byte {
	k := make([]byte, 13)
	k[0] = acct
	binary.BigEndian.PutUint64(k[1:], id)
	binary.BigEndian.PutUint32(k[9:], day)
	return k
}

// encodeUsage and decodeUsage store a roll-up as fixed big-endian words:
// the four counters, then sell and buy in two words each (64 bytes).
// Schema version 1 stored sell and buy in one word each (48 bytes); such
// a value is still read, and rewritten in the new form when its day
// changes.
func encodeUsage(u *rating.Usage) []byte {
	b := make([]byte, 64)
	sh, sl := u.Sell.Words()
	bh, bl := u.Buy.Words()
	for i, v := range [...]uint64{uint64(u.Attempts), uint64(u.Answered), uint64(u.Seconds), uint64(u.Billed),
		uint64(sh), sl, uint64(bh), bl} {
		binary.BigEndian.PutUint64(b[i*8:], v)
	}
	return b
}

func decodeUsage(b []byte) rating.Usage {
	if len(b) != 48 && len(b) != 64 {
		return rating.Usage{}
	}
	g := func(i int) int64 { return int64(binary.BigEndian.Uint64(b[i*8:])) }
	u := rating.Usage{Attempts: g(0), Answered: g(1), Seconds: g(2), Billed: g(3)}
	if len(b) == 48 {
		u.Sell, u.Buy = rating.MoneyOf(g(4)), rating.MoneyOf(g(5))
	} else {
		u.Sell = rating.MoneyFromWords(g(4), uint64(g(5)))
		u.Buy = rating.MoneyFromWords(g(6), uint64(g(7)))
	}
	return u
}
