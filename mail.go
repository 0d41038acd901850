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
}

// newMailer reads smtp://[user:pass@]host[:port]; the port defaults to 587,
// the submission port.
func newMailer(raw, from string) (*mailer, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "smtp" || u.Hostname() == "" {
		return nil, errors.New("want smtp://user:pass@host:587")
	}
	port := u.Port()
	if port == "" {
		port = "587"
	}
	m := &mailer{addr: net.JoinHostPort(u.Hostname(), port), host: u.Hostname(), from: from, timeout: 30 * time.Second}
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
	conn, err := net.DialTimeout("tcp", m.addr, m.timeout)
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
	if ok, _ := c.Extension("STARTTLS"); ok {
		cfg := m.tls
		if cfg == nil {
			cfg = &tls.Config{ServerName: m.host}
		}
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
