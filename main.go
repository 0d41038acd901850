// Command pbxbill is the billing appliance for a hosted PBX: one binary on
// the PBX box that keeps tenants, providers and rate tables in a bbolt file
// and answers rating questions over HTTP for the dialplan.
//
// main only parses the configuration, opens the store, builds the handlers
// and serves until SIGINT or SIGTERM; everything else lives in rating, store
// and handlers, the follow mode in follow.go and "pbxbill check" in check.go.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	stdlog "log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
	_ "time/tzdata" // -tz must work on a box without /usr/share/zoneinfo

	"github.com/rs/zerolog"

	"pbxbill/handlers"
	"pbxbill/rating"
	"pbxbill/store"
)

// shutdownTimeout bounds how long a shutdown waits for requests in flight,
// such as a CSV import, before it closes their connections.
const shutdownTimeout = 15 * time.Second

func main() {
	var err error
	if len(os.Args) > 1 && os.Args[1] == "check" {
		err = runCheck(os.Args[2:], os.Getenv, os.Stdout, os.Stderr)
	} else if len(os.Args) > 1 && os.Args[1] == "migrate" {
		err = runMigrate(os.Args[2:], os.Getenv, os.Stdout, os.Stderr)
	} else {
		err = run(context.Background(), os.Args[1:], os.Getenv, os.Stderr)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "pbxbill:", err)
		os.Exit(1)
	}
}

// run is the whole program. It takes its arguments, environment and log
// output as parameters so that tests can run it without touching the
// process's own; it returns when ctx is done or a signal arrives, after a
// graceful shutdown.
func run(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) (err error) {
	c, err := parseConfig(args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	log := newLogger(c, stderr)
	// What a store logs on its own (the PostgreSQL store's listener)
	// goes to the one log too.
	stdlog.SetFlags(0)
	stdlog.SetOutput(stdWriter{log.With().Str("component", "store").Logger()})

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	// The one clock: the store reads it, and the handlers read the store's.
	clock := time.Now
	numbering := rating.Numbering{IntlPrefixes: c.IntlPrefixes}
	db, err := openBackend(c.DB, store.Options{TZ: c.TZ, Currency: c.Currency, Numbering: numbering, Now: clock,
		HoldSlack: c.HoldSlack})
	if err != nil {
		return err
	}
	st := db.backend
	if st.Created() {
		// Loud, because a database file deleted while the server ran
		// would otherwise come back empty at the next start unnoticed.
		if db.shared {
			log.Warn().Str("db", db.name).Msg("created pbxbill's tables in an empty PostgreSQL database")
		} else {
			log.Warn().Str("db", db.name).Msg("created a new, empty database: there was no file at this path")
		}
	}
	defer func() {
		// The store closes after the server has drained, so no request
		// can reach a closed database.
		if cerr := st.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("close database %s: %w", db.name, cerr)
		}
	}()

	if c.Demo {
		if err := maybeSeedDemo(st, log); err != nil {
			return err
		}
	}
	if err := setupAdmin(st, c.AdminPassword, log); err != nil {
		return err
	}
	if c.APIToken == "" {
		log.Info().Msg("no -api-token: only PBX node tokens are accepted, and rating stays open on loopback")
	}

	// Deferred after the store's Close, so it runs first: the follower's
	// last commit ends before the database closes, however run returns.
	stopFollower := startFollower(ctx, st, c.followConfig, log)
	defer stopFollower()
	stopSweeper := sweepHolds(st, holdSweep, log)
	defer stopSweeper()
	// The same for the scheduler and the alert deliverer.
	stopBackground := startBackground(ctx, st, newDeliverer(st, c.alertConfig, defaultDelivery, log), schedulerEvery, log)
	defer stopBackground()

	// Listening before serving lets -listen 127.0.0.1:0 pick a free port
	// and still log the address that was really bound.
	ln, err := net.Listen("tcp", c.Listen)
	if err != nil {
		return fmt.Errorf("-listen %s: %w", c.Listen, err)
	}
	publicURL := c.PublicURL
	if publicURL == "" {
		publicURL = "http://" + ln.Addr().String()
	}
	h := handlers.New(handlers.Config{
		Store:               st,
		MaxCallDuration:     c.MaxCallDuration,
		APIToken:            c.APIToken,
		RatingRequiresToken: c.RatingRequiresToken,
		Hosts:               c.Hosts,
		PublicURL:           publicURL,
		Audited:             db.audited,
		Log:                 log,
		Installation:        hostname(),
	})
	srv := newServer(h, log)
	log.Info().Str("addr", ln.Addr().String()).Str("db", db.name).Str("tz", c.TZ).
		Str("currency", c.Currency).Msg("listening")

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	stop() // a second signal now kills the process at once
	log.Info().Msg("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		log.Warn().Err(err).Msg("requests still running at the shutdown timeout: closing them")
		_ = srv.Close()
	}
	<-served
	log.Info().Msg("stopped")
	return nil
}

// newServer wraps h with timeouts that keep slow or idle clients from
// holding connections open forever, yet leave room for a large rate deck
// upload or a database backup download.
func newServer(h http.Handler, log zerolog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       5 * time.Minute,
		WriteTimeout:      10 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          stdlog.New(stdWriter{log.With().Str("component", "http").Logger()}, "", 0),
	}
}

// maybeSeedDemo seeds the Docs Demo records into an empty database and
// leaves any other database alone, so -demo is safe to keep on.
func maybeSeedDemo(st backend, log zerolog.Logger) error {
	empty, err := st.Empty()
	if err != nil {
		return fmt.Errorf("-demo: %w", err)
	}
	if !empty {
		log.Info().Msg("-demo: the database is not empty, nothing seeded")
		return nil
	}
	if err := seedDemo(st, st.Now()); err != nil {
		return fmt.Errorf("-demo: %w", err)
	}
	log.Info().Str("prepaid", demoPrepaid).Str("postpaid", demoPostpaid).Msg("-demo: seeded the Docs Demo records")
	return nil
}

// setupAdmin sets the admin password from -admin-password, or on a first
// start without one creates the admin user with a random password and
// prints it once, in one log line, as Jenkins does: the admin pages are
// never open without a password.
func setupAdmin(st backend, password string, log zerolog.Logger) error {
	if password != "" {
		if err := st.SetAdminPassword(store.AdminUser, password); err != nil {
			return fmt.Errorf("-admin-password: %w", err)
		}
		log.Info().Str("user", store.AdminUser).Msg("-admin-password: set the admin password; its sessions were ended")
		return nil
	}
	pw, err := st.EnsureAdmin()
	if err != nil {
		return fmt.Errorf("create the admin user: %w", err)
	}
	if pw != "" {
		log.Warn().Str("user", store.AdminUser).Str("password", pw).
			Msg("first start: created the admin user; log in with this password, which is shown only this once (-admin-password changes it)")
	}
	return nil
}

// hostname names the installation on its documents (a statement's
// header): the machine's name, which is what an operator calls the box.
func hostname() string {
	h, _ := os.Hostname()
	return h
}

// newLogger builds the one logger that is handed down to every package.
func newLogger(c *config, stderr io.Writer) zerolog.Logger {
	w := stderr
	if c.LogFormat == "console" {
		w = zerolog.ConsoleWriter{Out: stderr, TimeFormat: "2006-01-02 15:04:05", NoColor: !isTerminal(stderr)}
	}
	return zerolog.New(w).Level(c.LogLevel).With().Timestamp().Logger()
}

// isTerminal reports whether w is a terminal, where a person reads the log.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// stdWriter turns net/http's log lines (TLS noise, handler panics) into
// zerolog warnings, so they are not lost outside the structured log.
type stdWriter struct{ log zerolog.Logger }

func (w stdWriter) Write(p []byte) (int, error) {
	w.log.Warn().Msg(strings.TrimSpace(string(p)))
	return len(p), nil
}
