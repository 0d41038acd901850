package store

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"time"

	"pbxbill/rating"
)

// itob encodes an id as an 8-byte big-endian key, so ids sort numerically.
func itob(v uint64) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint64(b, v)
	return b
}

// btoi decodes an 8-byte big-endian key.
func btoi(b []byte) uint64 { return binary.BigEndian.Uint64(b) }

// signBit flips the sign of a Unix time so that negative and positive
// seconds sort as unsigned bytes in numeric order.
const signBit = 1 << 63

// effKey encodes an effective_from as sortable uint64. The zero time
// ("always") is 0, below every real instant, so it sorts first even before
// year 1; that is also math.MinInt64 with the sign flipped, the value the
// index uses for "always".
func effKey(t time.Time) uint64 {
	if t.IsZero() {
		return 0
	}
	return uint64(t.Unix()) ^ signBit
}

// effTime decodes effKey; the seconds are kept, the zone is UTC.
func effTime(v uint64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.Unix(int64(v^signBit), 0).UTC()
}

// rateKeyLen is the longest rate key: prefix, separator, effective_from,
// times of the week.
const rateKeyLen = rating.MaxPrefixLen + 1 + 8 + 4

// appendRateKey appends the key of a rate row: prefix bytes, 0x00,
// effective_from, then, for a row with times, its week (rowkey.go).
// Prefixes hold only digits or "*", all above 0x00, so the bytes sort by
// prefix ("*" first, "4" before "44"), then by time, then the week's
// default before its timed rows; a row without times has the key it had
// before weeks existed.
func appendRateKey(dst []byte, prefix string, eff time.Time, week uint32) []byte {
	dst = append(dst, prefix...)
	dst = append(dst, 0)
	dst = binary.BigEndian.AppendUint64(dst, effKey(eff))
	if week != 0 {
		dst = binary.BigEndian.AppendUint32(dst, week)
	}
	return dst
}

// splitRateKey returns the prefix bytes, effective_from and week of a
// rate key.
func splitRateKey(k []byte) ([]byte, time.Time, uint32, bool) {
	i := bytes.IndexByte(k, 0)
	if i < 1 {
		return nil, time.Time{}, 0, false
	}
	var week uint32
	switch rest := k[i+1:]; len(rest) {
	case 8:
	case 12:
		if week = binary.BigEndian.Uint32(rest[8:]); week == 0 {
			return nil, time.Time{}, 0, false
		}
	default:
		return nil, time.Time{}, 0, false
	}
	return k[:i], effTime(binary.BigEndian.Uint64(k[i+1:])), week, true
}

// rateCursor turns the key of the last row of a page into the opaque
// cursor the API hands out.
func rateCursor(k []byte) string { return hex.EncodeToString(k) }

// parseRateCursor decodes a cursor; a cursor that is not one is EInvalid.
func parseRateCursor(s string) ([]byte, error) {
	k, err := hex.DecodeString(s)
	if _, _, _, ok := splitRateKey(k); err != nil || !ok || len(k) > rateKeyLen {
		return nil, rating.Invalidf("after", "after %s: not a cursor this list returned", rating.Excerpt(s))
	}
	return k, nil
}

// Account type bytes of the ledger index.
const (
	tenantAcct   byte = 1
	providerAcct byte = 2
)

// acctByte maps rating.TenantAccount and rating.ProviderAccount to their
// index byte.
func acctByte(accountType string) (byte, error) {
	switch accountType {
	case rating.TenantAccount:
		return tenantAcct, nil
	case rating.ProviderAccount:
		return providerAcct, nil
	}
	return 0, rating.Errorf(rating.EInvalid, "account type %s: want tenant or provider", rating.Excerpt(accountType))
}

// ledgerKey is the index key type|account id|entry id; an account's
// entries are one contiguous, id-ordered range.
func ledgerKey(acct byte, accountID, entryID uint64) []byte {
	k := make([]byte, 17)
	k[0] = acct
	binary.BigEndian.PutUint64(k[1:], accountID)
	binary.BigEndian.PutUint64(k[9:], entryID)
	return k
}
