package handlers

import (
	"bufio"
	"net/http"
	"time"
)

// backup streams a consistent copy of the database: the store writes it
// from one read transaction, so CDR intake goes on meanwhile and the copy
// is the database as of the moment the transaction began. The copy is a
// complete bbolt file: stop the server, put it in place of -db, start.
func (s *server) backup(w http.ResponseWriter, r *http.Request) error {
	name := "pbxbill-" + time.Now().In(s.Store.Location()).Format("20060102-150405") + ".db"
	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Content-Disposition", `attachment; filename="`+name+`"`)
	h.Set("Cache-Control", "no-store")
	bw := bufio.NewWriterSize(w, 256<<10)
	_, err := s.Store.Backup(bw)
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		return nil
	}
	if !started(w) {
		h.Del("Content-Disposition")
		return err
	}
	// A cut connection is the only way left to tell the client that the
	// file it has is incomplete, and an incomplete backup must not pass
	// for a good one.
	s.Log.Warn().Err(err).Msg("backup cut short")
	panic(http.ErrAbortHandler)
}
