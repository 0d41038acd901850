package main

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"net"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"pbxbill/rating"
)

// smtpServer is a small SMTP server for the tests: it offers STARTTLS
// with httptest's certificate, then AUTH PLAIN, and keeps each message.
type smtpServer struct {
	ln   net.Listener
	tls  *tls.Config
	user string // the PLAIN credentials it wants, "user\x00pass"
	// implicit speaks TLS from the first byte, as on port 465 (under mu).
	implicit bool

	mu   sync.Mutex
	msgs []smtpMessage
	wg   sync.WaitGroup
}

type smtpMessage struct {
	from, to string
	data     string
	tls      bool
	authed   bool
}

func startSMTP(t *testing.T) (*smtpServer, *tls.Config) {
	t.Helper()
	certs := httptest.NewTLSServer(http.NotFoundHandler())
	t.Cleanup(certs.Close)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &smtpServer{ln: ln, tls: certs.TLS, user: "alerts\x00pw"}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.wg.Add(1)
			go func() { defer s.wg.Done(); s.serve(c) }()
		}
	}()
	t.Cleanup(func() { ln.Close(); s.wg.Wait() })
	client := certs.Client().Transport.(*http.Transport).TLSClientConfig.Clone()
	client.ServerName = "127.0.0.1"
	return s, client
}

// serve speaks the part of RFC 5321 that net/smtp uses; every loop is
// bounded by the connection's deadline.
func (s *smtpServer) serve(c net.Conn) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	var m smtpMessage
	s.mu.Lock()
	implicit := s.implicit
	s.mu.Unlock()
	if implicit {
		tc := tls.Server(c, s.tls)
		if tc.Handshake() != nil {
			return
		}
		c, m.tls = tc, true
	}
	tp := textproto.NewConn(c)
	_ = tp.PrintfLine("220 test ESMTP")
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO", "HELO":
			if m.tls {
				_ = tp.PrintfLine("250-test\r\n250 AUTH PLAIN")
			} else {
				_ = tp.PrintfLine("250-test\r\n250 STARTTLS")
			}
		case "STARTTLS":
			_ = tp.PrintfLine("220 go ahead")
			tc := tls.Server(c, s.tls)
			if tc.Handshake() != nil {
				return
			}
			c, m.tls = tc, true
			tp = textproto.NewConn(tc)
		case "AUTH":
			_, cred, _ := strings.Cut(arg, " ")
			b, _ := base64.StdEncoding.DecodeString(cred)
			s.mu.Lock()
			want := "\x00" + s.user
			s.mu.Unlock()
			if string(b) != want {
				_ = tp.PrintfLine("535 bad credentials")
				continue
			}
			m.authed = true
			_ = tp.PrintfLine("235 ok")
		case "MAIL":
			m.from = strings.Trim(strings.TrimPrefix(arg, "FROM:"), "<>")
			_ = tp.PrintfLine("250 ok")
		case "RCPT":
			m.to = strings.Trim(strings.TrimPrefix(arg, "TO:"), "<>")
			_ = tp.PrintfLine("250 ok")
		case "DATA":
			_ = tp.PrintfLine("354 go on")
			lines, err := tp.ReadDotLines()
			if err != nil {
				return
			}
			m.data = strings.Join(lines, "\n")
			s.mu.Lock()
			s.msgs = append(s.msgs, m)
			s.mu.Unlock()
			_ = tp.PrintfLine("250 queued")
		case "QUIT":
			_ = tp.PrintfLine("221 bye")
			return
		default:
			_ = tp.PrintfLine("250 ok")
		}
	}
}

func (s *smtpServer) messages() []smtpMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]smtpMessage(nil), s.msgs...)
}

// A tenant entering low is mailed, over STARTTLS with the account of
// -smtp-url, to its own address and to -alert-email; the message names
// the tenant, its state and its balance. Leaving low is not mailed.
func TestMailOnLow(t *testing.T) {
	srv, clientTLS := startSMTP(t)
	st := alertStore(t)
	m, err := newMailer("smtp://alerts:pw@"+srv.ln.Addr().String(), "pbxbill@pbx.example.net")
	if err != nil {
		t.Fatal(err)
	}
	m.tls = clientTLS
	d := newDeliverer(st, alertConfig{SMTP: m, AlertEmail: "noc@operator.example"}, fastDelivery, zerolog.Nop())
	if _, err := st.Credit(rating.TenantAccount, "Acme", rating.MoneyOf(3e8), rating.Topup, ""); err != nil { // blocked → low
		t.Fatal(err)
	}
	if _, err := st.Credit(rating.TenantAccount, "Acme", rating.MoneyOf(10e8), rating.Topup, ""); err != nil { // low → ok
		t.Fatal(err)
	}
	deliverUntil(t, d, func() bool { return pendingCount(t, st) == 0 })
	msgs := srv.messages()
	if len(msgs) != 2 {
		t.Fatalf("%d messages, want 2: %+v", len(msgs), msgs)
	}
	for i, want := range []string{"billing@acme.example", "noc@operator.example"} {
		g := msgs[i]
		if g.to != want || g.from != "pbxbill@pbx.example.net" || !g.tls || !g.authed {
			t.Errorf("message %d: to %s from %s tls %v auth %v", i, g.to, g.from, g.tls, g.authed)
		}
		for _, part := range []string{"Subject: pbxbill: tenant Acme is low", "Tenant Acme went from blocked to low.", "Balance: 3 EUR", "Message-ID: <ev_1_"} {
			if !strings.Contains(g.data, part) {
				t.Errorf("message %d lacks %q:\n%s", i, part, g.data)
			}
		}
	}
	evs, _, _ := st.Events("", 10)
	if len(evs[0].Deliveries) != 2 || evs[0].Deliveries[1].State != rating.DeliveryDelivered || len(evs[1].Deliveries) != 0 {
		t.Errorf("delivery state %+v / %+v", evs[0].Deliveries, evs[1].Deliveries)
	}
}

// A server that refuses the credentials leaves the mail pending, retried.
func TestMailRetriedAfterRefusal(t *testing.T) {
	srv, clientTLS := startSMTP(t)
	st := alertStore(t)
	m, _ := newMailer("smtp://alerts:wrong@"+srv.ln.Addr().String(), "pbxbill@pbx.example.net")
	m.tls = clientTLS
	d := newDeliverer(st, alertConfig{SMTP: m, AlertEmail: "noc@operator.example"}, fastDelivery, zerolog.Nop())
	if _, err := st.Credit(rating.TenantAccount, "Acme", rating.MoneyOf(3e8), rating.Topup, ""); err != nil {
		t.Fatal(err)
	}
	d.pass(context.Background())
	evs, _, _ := st.Events("", 10)
	dl := evs[0].Deliveries
	if evs[0].Done || len(dl) != 2 || dl[0].State != rating.DeliveryPending || !strings.Contains(dl[0].LastError, "535") || dl[0].NextTry.IsZero() {
		t.Errorf("after a refusal: %+v", evs[0])
	}
	srv.mu.Lock()
	srv.user = "alerts\x00wrong" // the operator fixes the account
	srv.mu.Unlock()
	deliverUntil(t, d, func() bool { return pendingCount(t, st) == 0 })
	if n := len(srv.messages()); n != 2 {
		t.Errorf("%d messages after the fix", n)
	}
}

// smtps:// speaks TLS from the first byte (port 465): the message goes
// over TLS with the account, and the server is never offered STARTTLS.
func TestMailImplicitTLS(t *testing.T) {
	srv, clientTLS := startSMTP(t)
	srv.mu.Lock()
	srv.implicit = true
	srv.mu.Unlock()
	st := alertStore(t)
	m, err := newMailer("smtps://alerts:pw@"+srv.ln.Addr().String(), "pbxbill@pbx.example.net")
	if err != nil {
		t.Fatal(err)
	}
	if d, _ := newMailer("smtps://mail.example.net", "x@example.net"); d.addr != "mail.example.net:465" {
		t.Errorf("smtps default address %s, want port 465", d.addr)
	}
	m.tls = clientTLS
	d := newDeliverer(st, alertConfig{SMTP: m, AlertEmail: "noc@operator.example"}, fastDelivery, zerolog.Nop())
	if _, err := st.Credit(rating.TenantAccount, "Acme", rating.MoneyOf(3e8), rating.Topup, ""); err != nil { // blocked → low
		t.Fatal(err)
	}
	deliverUntil(t, d, func() bool { return pendingCount(t, st) == 0 })
	msgs := srv.messages()
	if len(msgs) != 2 {
		t.Fatalf("%d messages, want 2: %+v", len(msgs), msgs)
	}
	for _, g := range msgs {
		if !g.tls || !g.authed || !strings.Contains(g.data, "Tenant Acme went from blocked to low.") {
			t.Errorf("message to %s: tls %v auth %v\n%s", g.to, g.tls, g.authed, g.data)
		}
	}
}
