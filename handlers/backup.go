package handlers

import (
	"bufio"
	"net/http"
)

// backup streams a consistent copy of the database: the store writes it
// from one read transaction, so CDR intake goes on meanwhile and the copy
// is the database as of the moment the transaction began. The copy is a
// complete bbolt file: stop the server, put it in place of -db, start.
func (s *server) backup(w http.ResponseWriter, r *http.Request) error {
	name := "pbxbill-" + s.Now().In(s.Store.Location()).Format("20060102-150405") + ".db"
	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Content-Disposition", `attachment; filename="`+name+`"`)
	h.Set("Cache-Control", "no-store")
	bw := bufio.NewWriterSize(w, 256<<10)
	_, err := s.Store.Backup(bw)
	return s.endStream(w, bw, err, "backup")
}

// endStream ends a streamed download: it flushes bw, and then, on an
// error, answers it when nothing has gone out yet, or else cuts the
// connection. A cut is the only way left to tell the client that the file
// it has is incomplete: a short backup or export must not pass for a
// whole one.
func (s *server) endStream(w http.ResponseWriter, bw *bufio.Writer, err error, what string) error {
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		return nil
	}
	if !started(w) {
		w.Header().Del("Content-Disposition")
		return err
	}
	s.Log.Warn().Err(err).Msg(what + " cut short")
	panic(http.ErrAbortHandler)
}
