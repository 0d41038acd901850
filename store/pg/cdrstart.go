package pg

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"math"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"pbxbill/rating"
)

// The CDRs are listed by call start, newest first, over the index
// cdrs_start (start, seq), with the bbolt store's cursors.

// A list's cursor is the bbolt store's start index key, in hex: the
// start's Unix nanoseconds with the sign bit flipped, then the sequence.
func startCursor(start time.Time, seq int64) string {
	k := binary.BigEndian.AppendUint64(nil, uint64(start.UnixNano())^1<<63)
	return hex.EncodeToString(binary.BigEndian.AppendUint64(k, uint64(seq)))
}

// cursorPos is a cursor as a position (start, seq) of the list. A start
// between microseconds, which no stored start has, is the last sequence
// of its microsecond: it sorts where the nanoseconds would.
type cursorPos struct {
	start time.Time
	seq   int64
}

func parseStartCursor(field, v string) (cursorPos, error) {
	k, err := hex.DecodeString(v)
	if err != nil || len(k) != 16 {
		return cursorPos{}, rating.Invalidf(field, "%s %s: not a cursor this list returned", field, rating.Excerpt(v))
	}
	ns := int64(binary.BigEndian.Uint64(k) ^ 1<<63)
	seq := binary.BigEndian.Uint64(k[8:])
	p := cursorPos{start: time.Unix(0, ns).UTC(), seq: int64(min(seq, math.MaxInt64))}
	if t := p.start.Truncate(time.Microsecond); !t.Equal(p.start) {
		p.start, p.seq = t, math.MaxInt64
	}
	return p, nil
}

// pageOf reads up to limit CDRs matching m beyond pos (nil: from the
// end), towards older starts or newer, leaving out the sequences above
// maxSeq (0: none). names, when not nil, keeps each account's name as
// first met, for a walk over several transactions.
func pageOf(tx pgx.Tx, m *cdrMatch, pos *cursorPos, older bool, maxSeq int64, limit int, names map[[2]int64]string) ([]cdrRow, []rating.CDR, error) {
	var args []any
	q := `SELECT ` + cdrCols + `, coalesce(t.name, ''), coalesce(p.name, '')` + cdrFrom + ` WHERE ` + m.where(&args)
	if pos != nil {
		args = append(args, pos.start, pos.seq)
		n := len(args)
		cmp := "<"
		if !older {
			cmp = ">"
		}
		q += ` AND (c.start, c.seq) ` + cmp + ` ($` + strconv.Itoa(n-1) + `, $` + strconv.Itoa(n) + `)`
	}
	if maxSeq > 0 {
		args = append(args, maxSeq)
		q += ` AND c.seq <= $` + strconv.Itoa(len(args))
	}
	if older {
		q += ` ORDER BY c.start DESC, c.seq DESC`
	} else {
		q += ` ORDER BY c.start, c.seq`
	}
	args = append(args, limit)
	q += ` LIMIT $` + strconv.Itoa(len(args))
	rs, err := tx.Query(context.Background(), q, args...)
	if err != nil {
		return nil, nil, err
	}
	defer rs.Close()
	var rows []cdrRow
	var out []rating.CDR
	for rs.Next() {
		var r cdrRow
		var n [2]string
		if err := scanCDR(rs, &r, &n); err != nil {
			return nil, nil, err
		}
		if names != nil {
			n[0], n[1] = firstName(names, tenantAcct, r.TenantID, n[0]), firstName(names, providerAcct, r.ProviderID, n[1])
		}
		rows, out = append(rows, r), append(out, listed(&r, n))
	}
	return rows, out, rs.Err()
}

func firstName(names map[[2]int64]string, acct byte, id int64, name string) string {
	if id == 0 {
		return name
	}
	k := [2]int64{int64(acct), id}
	if n, ok := names[k]; ok {
		return n
	}
	names[k] = name
	return name
}
