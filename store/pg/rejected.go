package pg

import (
	"context"
	"encoding/json"

	"github.com/jackc/pgx/v5"

	"pbxbill/rating"
	"pbxbill/store"
)

// maxRejected bounds the rejected lines kept; past it the oldest go. A
// file that has thousands of them has one cause to fix, and the log has
// every one.
const maxRejected = 1000

// RejectFollowed records line as refused and moves the follow position of
// its file past it, in one transaction: the line is skipped once, and kept
// where the operator can see it (RejectedLines). Only the newest
// maxRejected lines are kept.
func (s *Store) RejectFollowed(line rating.RejectedLine, pos store.FollowPos) error {
	raw, err := json.Marshal(pos)
	if err != nil {
		return err
	}
	ctx := context.Background()
	return s.write(ctx, func(tx *txn) error {
		var seq int64
		if err := tx.QueryRow(ctx, `INSERT INTO rejected_lines (path, line, text, error, at) VALUES ($1, $2, $3, $4, $5) RETURNING seq`,
			line.Path, line.Line, rating.CutText(line.Text), rating.CutText(line.Error), tx.now).Scan(&seq); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM rejected_lines WHERE seq + $1 <= $2`, maxRejected, seq); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO follow_positions (path, pos) VALUES ($1, $2)
			ON CONFLICT (path) DO UPDATE SET pos = excluded.pos`, pos.Path, raw)
		return err
	})
}

// RejectedLines lists the kept rejected lines, newest first, at most limit
// (DefaultLimit when ≤ 0, MaxLimit at most).
func (s *Store) RejectedLines(limit int) ([]rating.RejectedLine, error) {
	limit = pageLimit(limit)
	var out []rating.RejectedLine
	err := s.read(context.Background(), func(tx pgx.Tx) error {
		out = nil
		rows, err := tx.Query(context.Background(), `SELECT path, line, text, error, at FROM rejected_lines ORDER BY seq DESC LIMIT $1`, limit)
		if err != nil {
			return err
		}
		var l rating.RejectedLine
		_, err = pgx.ForEachRow(rows, []any{&l.Path, &l.Line, &l.Text, &l.Error, &l.At}, func() error {
			l.At = l.At.UTC()
			out = append(out, l)
			return nil
		})
		return err
	})
	return out, err
}
