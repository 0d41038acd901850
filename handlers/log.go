package handlers

import (
	"net/http"
	"time"
)

// recorder notes what a handler answered, for the request log.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int
	wrote  bool   // the status line has been sent
	node   string // set by authentication
}

// WriteHeader implements http.ResponseWriter.
func (w *recorder) WriteHeader(status int) {
	if !w.wrote {
		w.status, w.wrote = status, true
	}
	w.ResponseWriter.WriteHeader(status)
}

// Write implements http.ResponseWriter.
func (w *recorder) Write(b []byte) (int, error) {
	if !w.wrote {
		w.status, w.wrote = http.StatusOK, true
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

// Flush lets a streamed answer (a CSV export) reach the client as it goes.
func (w *recorder) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		w.wrote = true
		if w.status == 0 {
			w.status = http.StatusOK
		}
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the connection.
func (w *recorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// logRequests writes one line per request. zerolog builds the line without
// allocating, and skips it entirely when info is disabled, so the rating
// hot path pays almost nothing for it.
func (s *server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &recorder{ResponseWriter: w}
		// Deferred, so that a request cut off by http.ErrAbortHandler is
		// logged too. recoverPanics has answered every other panic, so
		// one that reaches here is that cut: net/http closes the
		// connection without logging it.
		defer func() {
			v := recover()
			s.logRequest(r, rec, start, v != nil)
			if v != nil {
				panic(v)
			}
		}()
		next.ServeHTTP(rec, r)
	})
}

// logRequest writes the request's line; aborted marks an answer that was
// cut off after it started, which the client got incomplete.
func (s *server) logRequest(r *http.Request, rec *recorder, start time.Time, aborted bool) {
	ev := s.Log.Info()
	if ev == nil {
		return
	}
	status := rec.status
	if status == 0 {
		status = http.StatusOK // a handler that wrote nothing answers 200
	}
	ev = ev.Str("method", r.Method).Str("path", r.URL.Path).Int("status", status).
		Int("bytes", rec.bytes).Dur("duration", time.Since(start))
	if rec.node != "" {
		ev = ev.Str("node", rec.node)
	}
	if aborted {
		ev = ev.Bool("aborted", true)
	}
	ev.Msg("request")
}

// started reports whether the answer's status line has gone out, after
// which an error can no longer be answered as such.
func started(w http.ResponseWriter) bool {
	rec, ok := w.(*recorder)
	return !ok || rec.wrote
}

// unwrap returns the server's own ResponseWriter, which http.MaxBytesReader
// needs to see to close the connection after an oversized body.
func unwrap(w http.ResponseWriter) http.ResponseWriter {
	if rec, ok := w.(*recorder); ok {
		return rec.ResponseWriter
	}
	return w
}
