package handlers

import (
	"bufio"
	"io"
	"net/http"
	"strconv"

	"pbxbill/rating"
)

// backups is what the backup endpoint asks of the store.
type backups interface {
	Backup() (rating.Snapshot, error)
}

// backup answers a consistent copy of the database. The store first
// copies it from one read transaction into a temporary file beside the
// database, and the answer is streamed from that file: the transaction
// lasts as long as a local copy takes, whatever the client's speed, so
// CDR intake goes on meanwhile and a commit that grows the file never
// waits for a download. The copy is the database as of the moment the
// transaction began, a complete bbolt file: stop the server, put it in
// place of -db, start. A failure before the copy is made is an error
// answer; one after the first bytes cuts the connection (endStream), and
// the Content-Length lets any client tell a short file too.
func (s *server) backup(w http.ResponseWriter, r *http.Request) error {
	snap, err := s.Store.Backup()
	if err != nil {
		return err
	}
	// Deferred, so that the copy goes also when the client hangs up and
	// endStream cuts the answer.
	defer snap.Close()
	name := "pbxbill-" + s.Now().In(s.Store.Location()).Format("20060102-150405") + ".db"
	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Content-Disposition", `attachment; filename="`+name+`"`)
	h.Set("Content-Length", strconv.FormatInt(snap.Size(), 10))
	h.Set("Cache-Control", "no-store")
	bw := bufio.NewWriterSize(w, 256<<10)
	_, err = io.Copy(bw, snap)
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
		w.Header().Del("Content-Length")
		return err
	}
	s.Log.Warn().Err(err).Msg(what + " cut short")
	panic(http.ErrAbortHandler)
}
