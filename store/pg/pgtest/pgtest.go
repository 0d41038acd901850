// Package pgtest runs a private PostgreSQL server for the tests of one test
// binary: Debian's postgresql, in a temporary directory, on 127.0.0.1 and a
// free port, as the postgres user when the tests run as root. Each test gets
// its own empty database on it.
//
// With CI set, a test that cannot have the server fails; without it, the
// test is skipped, so that a machine without PostgreSQL still runs the rest.
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Server is one running PostgreSQL server.
type Server struct {
	Dir  string // its data and socket directory
	Port int
	Bin  string // the directory of its programs (pg_dump, psql)
	cmd  *exec.Cmd
	cred *syscall.Credential // nil: run as this user
	n    atomic.Int64
}

var (
	mu     sync.Mutex
	shared *Server
	failed error
)

// Durable makes the shared server fsync its commits, as a production
// server does; benchmarks set it before the first call to URL. Tests leave
// it off: their data directory is thrown away.
var Durable bool

// Need fails (with CI set) or skips t when PostgreSQL's programs are not
// installed, and returns the directory they are in.
func Need(t testing.TB) string {
	t.Helper()
	bin, err := binDir()
	if err != nil {
		missing(t, err)
	}
	return bin
}

func missing(t testing.TB, err error) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("PostgreSQL is needed and CI is set: %v (.ci/run installs Debian's postgresql)", err)
	}
	t.Skipf("PostgreSQL is not available: %v", err)
}

// Shared starts the test binary's server at the first call and returns it.
// Stop it from TestMain.
func Shared(t testing.TB) *Server {
	t.Helper()
	mu.Lock()
	defer mu.Unlock()
	if shared == nil && failed == nil {
		shared, failed = Start(Durable)
	}
	if failed != nil {
		missing(t, failed)
	}
	return shared
}

// URL creates an empty database on the shared server and returns its
// connection URL. The database is left for Stop to remove with the server.
func URL(t testing.TB) string {
	t.Helper()
	return Shared(t).NewDatabase(t)
}

// Stop stops the shared server, if one was started, and removes its
// directory.
func Stop() {
	mu.Lock()
	defer mu.Unlock()
	if shared != nil {
		shared.Stop()
		shared = nil
	}
}

// binDir finds the programs of the newest PostgreSQL Debian installed.
func binDir() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "postgres")); err == nil {
			return d, nil
		}
	}
	if p, err := exec.LookPath("postgres"); err == nil {
		return filepath.Dir(p), nil
	}
	return "", errors.New("no postgres program in /usr/lib/postgresql/*/bin or on PATH")
}

func version(dir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(dir)))
	return n
}

// Start initialises a cluster in a new temporary directory and starts a
// server on it, listening on 127.0.0.1 and a free port only.
func Start(durable bool) (*Server, error) {
	bin, err := binDir()
	if err != nil {
		return nil, err
	}
	// As root the server runs as the postgres user, which must reach its
	// directory: under /tmp, not under a $TMPDIR in root's home.
	base := ""
	if os.Geteuid() == 0 {
		base = "/tmp"
	}
	dir, err := os.MkdirTemp(base, "pbxbill-pg-")
	if err != nil {
		return nil, err
	}
	s := &Server{Dir: dir, Bin: bin}
	if os.Geteuid() == 0 { // initdb and postgres refuse to run as root
		u, err := user.Lookup("postgres")
		if err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("running as root, and there is no postgres user to run the server as: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		s.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chown(dir, uid, gid); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
	}
	data := filepath.Join(dir, "data")
	if out, err := s.command("initdb", "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync").CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("initdb: %v: %s", err, lastLines(out))
	}
	fsync := "off"
	if durable {
		fsync = "on"
	}
	for try := 0; ; try++ {
		if s.Port, err = freePort(); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		err = s.start(data, fsync)
		if err == nil {
			return s, nil
		}
		if try == 2 {
			os.RemoveAll(dir)
			return nil, err
		}
	}
}

func (s *Server) start(data, fsync string) error {
	logPath := filepath.Join(s.Dir, "server.log")
	log, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer log.Close()
	if s.cred != nil {
		os.Chown(logPath, int(s.cred.Uid), int(s.cred.Gid))
	}
	cmd := s.command("postgres", "-D", data, "-p", strconv.Itoa(s.Port),
		"-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories="+s.Dir,
		"-c", "fsync="+fsync, "-c", "max_connections=300", "-c", "shared_buffers=256MB",
		"-c", "max_wal_size=4GB", "-c", "log_min_messages=warning")
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr.Pdeathsig = syscall.SIGQUIT // never outlive the tests
	if err := cmd.Start(); err != nil {
		return err
	}
	s.cmd = cmd
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-done:
			out, _ := os.ReadFile(logPath)
			return fmt.Errorf("postgres exited: %v: %s", err, lastLines(out))
		case <-time.After(50 * time.Millisecond):
		}
		c, err := pgx.Connect(context.Background(), s.url("postgres"))
		if err == nil {
			c.Close(context.Background())
			go func() { <-done }()
			return nil
		}
	}
	cmd.Process.Kill()
	return errors.New("postgres did not accept connections within 30 s")
}

// command runs one of the server's programs as the server's user.
func (s *Server) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(s.Bin, name), args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred}
	cmd.Dir = s.Dir
	return cmd
}

func (s *Server) url(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", s.Port, db)
}

// NewDatabase creates an empty database and returns its URL.
func (s *Server) NewDatabase(t testing.TB) string {
	t.Helper()
	name := fmt.Sprintf("t%d_%d", os.Getpid(), s.n.Add(1))
	ctx := context.Background()
	c, err := pgx.Connect(ctx, s.url("postgres"))
	if err != nil {
		t.Fatalf("connect to the test server: %v", err)
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create database %s: %v", name, err)
	}
	return s.url(name)
}

// Restore copies the database at from into a new database with pg_dump
// and pg_restore, the operator's backup, and returns the new one's URL.
func (s *Server) Restore(t testing.TB, from string) string {
	t.Helper()
	to := s.NewDatabase(t)
	dump := filepath.Join(t.TempDir(), "dump")
	if out, err := exec.Command(filepath.Join(s.Bin, "pg_dump"), "-Fc", "-f", dump, from).CombinedOutput(); err != nil {
		t.Fatalf("pg_dump: %v: %s", err, lastLines(out))
	}
	if out, err := exec.Command(filepath.Join(s.Bin, "pg_restore"), "-d", to, dump).CombinedOutput(); err != nil {
		t.Fatalf("pg_restore: %v: %s", err, lastLines(out))
	}
	return to
}

// Stop stops the server at once and removes its directory.
func (s *Server) Stop() {
	if s.cmd != nil && s.cmd.Process != nil {
		s.cmd.Process.Signal(syscall.SIGQUIT)
		for i := 0; i < 100 && s.cmd.Process.Signal(syscall.Signal(0)) == nil; i++ {
			time.Sleep(20 * time.Millisecond)
		}
	}
	os.RemoveAll(s.Dir)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func lastLines(b []byte) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > 5 {
		lines = lines[len(lines)-5:]
	}
	return strings.Join(lines, "\n")
}
