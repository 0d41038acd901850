package main

import (
	"crypto/tls"
	"errors"
	"fmt"
	"mime"
	"net"
	"net/smtp"
	"net/url"
	"strings"
	"time"
)

// mailer sends e-mail alerts through one SMTP server (-smtp-url). net/smtp
// does what is needed: STARTTLS when the server offers it, PLAIN auth,
// which it sends only over TLS or to localhost.
type mailer struct {
	addr, host string
	user, pass string
	from       string
	timeout    time.Duration // for the whole conversation
	tls        *tls.Config   // nil: verify the server's name; tests trust their own
	// implicit is smtps://: TLS from the first byte (port 465, RFC 8314),
	// where smtp:// upgrades with STARTTLS.
	implicit bool
}

// newMailer reads smtp://[user:pass@]host[:port], whose port defaults to
// 587, the submission port, or smtps://[user:pass@]host[:port], whose
// port defaults to 465, submission over TLS.
func newMailer(raw, from string) (*mailer, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "smtp" && u.Scheme != "smtps") || u.Hostname() == "" {
		return nil, errors.New("want smtp://user:pass@host:587 (STARTTLS) or smtps://user:pass@host:465 (TLS)")
	}
	port := u.Port()
	if port == "" {
		port = map[string]string{"smtp": "587", "smtps": "465"}[u.Scheme]
	}
	m := &mailer{addr: net.JoinHostPort(u.Hostname(), port), host: u.Hostname(), from: from, timeout: 30 * time.Second,
		implicit: u.Scheme == "smtps"}
	if u.User != nil {
		m.user = u.User.Username()
		m.pass, _ = u.User.Password()
	}
	return m, nil
}

// send sends one plain-text message to one address. id makes its
// Message-ID, so a message sent again after a crash is recognisably the
// same one.
func (m *mailer) send(to, subject, body, id string) error {
	cfg := m.tls
	if cfg == nil {
		cfg = &tls.Config{ServerName: m.host}
	}
	dialer := &net.Dialer{Timeout: m.timeout}
	var conn net.Conn
	var err error
	if m.implicit {
		conn, err = tls.DialWithDialer(dialer, "tcp", m.addr, cfg)
	} else {
		conn, err = dialer.Dial("tcp", m.addr)
	}
	if err != nil {
		return err
	}
	_ = conn.SetDeadline(time.Now().Add(m.timeout))
	c, err := smtp.NewClient(conn, m.host)
	if err != nil {
		conn.Close()
		return err
	}
	defer c.Close()
	if ok, _ := c.Extension("STARTTLS"); ok && !m.implicit {
		if err := c.StartTLS(cfg); err != nil {
			return fmt.Errorf("starttls: %w", err)
		}
	}
	if m.user != "" {
		if err := c.Auth(smtp.PlainAuth("", m.user, m.pass, m.host)); err != nil {
			return fmt.Errorf("auth: %w", err)
		}
	}
	if err := c.Mail(m.from); err != nil {
		return err
	}
	if err := c.Rcpt(to); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(message(m.from, to, subject, body, id, m.host)); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

// message builds the RFC 5322 message. The subject is encoded when it is
// not plain ASCII, and stripped of line breaks, which would start a
// header of their own.
func message(from, to, subject, body, id, host string) []byte {
	subject = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, subject)
	var b strings.Builder
	fmt.Fprintf(&b, "From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\nMessage-ID: <%s@%s>\r\n",
		from, to, mime.QEncoding.Encode("utf-8", subject), time.Now().Format(time.RFC1123Z), id, host)
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n")
	b.WriteString(body)
	return []byte(b.String())
}
