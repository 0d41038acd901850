package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"pbxbill/rating"
)

// alertConfig is where alerts go (API.md "Alerts").
type alertConfig struct {
	WebhookURLs   []string
	WebhookSecret string
	SMTP          *mailer // nil: no e-mail
	AlertEmail    string
}

// urlList is a repeatable flag whose each value may also be a
// comma-separated list, as its environment variable is.
type urlList []string

func (l *urlList) String() string { return strings.Join(*l, ",") }

func (l *urlList) Set(v string) error {
	for _, u := range strings.Split(v, ",") {
		if u = strings.TrimSpace(u); u != "" {
			*l = append(*l, u)
		}
	}
	return nil
}

// alertFlags adds the alert flags to fs; the returned validate checks them
// once every value is in.
func alertFlags(fs *flag.FlagSet, c *alertConfig) (validate func(bad func(name, value, want string) error) error) {
	var hooks urlList
	var smtpURL, smtpFrom string
	fs.Var(&hooks, "webhook-url", "`URL` each alert is POSTed to, signed with -webhook-secret; repeatable or comma-separated")
	fs.StringVar(&c.WebhookSecret, "webhook-secret", "", "`key` of the HMAC-SHA256 signature of each webhook (X-Pbxbill-Signature)")
	fs.StringVar(&smtpURL, "smtp-url", "", "mail server for e-mail alerts, smtp://user:pass@host:587 (`URL`; STARTTLS when offered) or smtps://user:pass@host:465 (TLS)")
	fs.StringVar(&smtpFrom, "smtp-from", "", "sender `address` of e-mail alerts")
	fs.StringVar(&c.AlertEmail, "alert-email", "", "operator's `address` that gets every e-mail alert, besides the tenant's own")
	return func(bad func(name, value, want string) error) error {
		for _, h := range hooks {
			u, err := url.Parse(h)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return bad("webhook-url", h, "want an http:// or https:// URL")
			}
		}
		c.WebhookURLs = hooks
		if len(hooks) > 0 && c.WebhookSecret == "" {
			return bad("webhook-secret", "", "required with -webhook-url: receivers check each alert's signature")
		}
		if rating.ValidateEmail("alert-email", c.AlertEmail) != nil {
			return bad("alert-email", c.AlertEmail, "want one address such as ops@example.com")
		}
		if smtpURL == "" {
			if c.AlertEmail != "" || smtpFrom != "" {
				return bad("smtp-url", "", "required with -alert-email and -smtp-from: the mail server to send through")
			}
			return nil
		}
		m, err := newMailer(smtpURL, smtpFrom)
		if err != nil {
			return bad("smtp-url", redactURL(smtpURL), err.Error())
		}
		if smtpFrom == "" || rating.ValidateEmail("smtp-from", smtpFrom) != nil {
			return bad("smtp-from", smtpFrom, "want the sender's address, e.g. pbxbill@example.com")
		}
		c.SMTP = m
		return nil
	}
}

// redactURL hides a URL's password, for an error message.
func redactURL(s string) string {
	if u, err := url.Parse(s); err == nil {
		return u.Redacted()
	}
	return rating.Excerpt(s)
}

// deliveryOptions are the deliverer's timings; tests shorten them.
type deliveryOptions struct {
	Poll       time.Duration // how often the outbox is read
	FirstRetry time.Duration // the delay after a first failure; it doubles
	MaxRetry   time.Duration // the longest delay between two tries
	GiveUp     time.Duration // how long after the event the last try may be
	Timeout    time.Duration // how long a webhook may take to answer
	Batch      int           // events read per pass
}

// defaultDelivery follows DOMAIN.md "Alerts": a first try within seconds,
// the first retry within 30 s, retries for 3 days; API.md: no answer in
// 10 s is a failure.
var defaultDelivery = deliveryOptions{Poll: time.Second, FirstRetry: 15 * time.Second, MaxRetry: time.Hour,
	GiveUp: 72 * time.Hour, Timeout: 10 * time.Second, Batch: 100}

// outbox is what the deliverer needs of the store.
type outbox interface {
	PendingEvents(after uint64, limit int) ([]rating.Event, error)
	SaveDelivery(seq uint64, deliveries []rating.Delivery, done bool) error
	Now() time.Time
	Currency() string
}

// deliverer sends the outbox's events to every webhook, and the state
// changes into low or blocked by e-mail, at least once: the state of each
// target is saved after its try, so a crash before the save tries again.
type deliverer struct {
	st     outbox
	cfg    alertConfig
	opt    deliveryOptions
	client *http.Client
	log    zerolog.Logger
}

func newDeliverer(st outbox, cfg alertConfig, opt deliveryOptions, log zerolog.Logger) *deliverer {
	return &deliverer{st: st, cfg: cfg, opt: opt, client: &http.Client{Timeout: opt.Timeout}, log: log}
}

// run delivers until ctx is done.
func (d *deliverer) run(ctx context.Context) {
	t := time.NewTicker(d.opt.Poll)
	defer t.Stop()
	for {
		d.pass(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// maxPages bounds the pages of pending events one pass reads.
const maxPages = 100

// pass tries every pending event whose targets are due. It reads the
// whole outbox of pending events, a page at a time, so that events
// waiting on a receiver that is down do not hold back the newer ones.
func (d *deliverer) pass(ctx context.Context) {
	var after uint64
	for range maxPages {
		evs, err := d.st.PendingEvents(after, d.opt.Batch)
		if err != nil {
			d.log.Error().Err(err).Msg("alerts: read the outbox")
			return
		}
		for i := range evs {
			if ctx.Err() != nil {
				return
			}
			d.deliver(ctx, &evs[i])
			after = evs[i].Seq
		}
		if len(evs) < d.opt.Batch {
			return
		}
	}
}

// targets are an event's receivers: every webhook, and for a tenant
// entering low or blocked the tenant's e-mail and the operator's.
func (d *deliverer) targets(ev *rating.Event) []rating.Delivery {
	var out []rating.Delivery
	add := func(t string) {
		out = append(out, rating.Delivery{Target: t, State: rating.DeliveryPending})
	}
	for _, u := range d.cfg.WebhookURLs {
		add("webhook " + redactURL(u))
	}
	if ev.Type != rating.EventTenantState || d.cfg.SMTP == nil {
		return out
	}
	var data rating.TenantStateData
	if json.Unmarshal(ev.Data, &data) != nil || !data.Mailed() {
		return out
	}
	for _, a := range []string{data.Email, d.cfg.AlertEmail} {
		if a != "" && (len(out) == 0 || out[len(out)-1].Target != "email "+a) {
			add("email " + a)
		}
	}
	return out
}

// deliver tries each due target of ev once and saves what happened; an
// event with nothing due is left as it is, unwritten.
func (d *deliverer) deliver(ctx context.Context, ev *rating.Event) {
	changed := false
	if len(ev.Deliveries) == 0 {
		ev.Deliveries, changed = d.targets(ev), true
	}
	now := d.st.Now()
	done := true
	for i := range ev.Deliveries {
		t := &ev.Deliveries[i]
		if t.State == rating.DeliveryPending && !t.NextTry.After(now) {
			d.try(ctx, ev, t)
			changed = true
		}
		done = done && t.State != rating.DeliveryPending
	}
	if !changed {
		return
	}
	if err := d.st.SaveDelivery(ev.Seq, ev.Deliveries, done); err != nil {
		d.log.Error().Err(err).Str("event", ev.ID).Msg("alerts: save the delivery state")
	}
}

// try makes one attempt at target t, and on failure sets its next try by
// the backoff, or gives up once the event is older than GiveUp.
func (d *deliverer) try(ctx context.Context, ev *rating.Event, t *rating.Delivery) {
	var err error
	kind, addr, _ := strings.Cut(t.Target, " ")
	if kind == "webhook" {
		err = d.post(ctx, d.webhook(addr), ev)
	} else {
		err = d.mail(addr, ev)
	}
	t.Attempts++
	now := d.st.Now()
	if err == nil {
		t.State, t.At, t.NextTry, t.LastError = rating.DeliveryDelivered, now, time.Time{}, ""
		return
	}
	t.LastError = rating.Excerpt(err.Error())
	delay := d.opt.FirstRetry << min(t.Attempts-1, 20)
	if delay <= 0 || delay > d.opt.MaxRetry {
		delay = d.opt.MaxRetry
	}
	if now.Add(delay).Sub(ev.Time) > d.opt.GiveUp {
		t.State, t.At, t.NextTry = rating.DeliveryFailed, now, time.Time{}
		d.log.Error().Str("event", ev.ID).Str("type", ev.Type).Str("target", t.Target).Int("attempts", t.Attempts).
			Str("error", t.LastError).Msg("alerts: gave up delivering an event")
		return
	}
	t.NextTry = now.Add(delay)
	d.log.Warn().Str("event", ev.ID).Str("target", t.Target).Int("attempts", t.Attempts).Str("error", t.LastError).
		Time("next_try", t.NextTry).Msg("alerts: delivery failed; will retry")
}

// webhook finds the configured URL of a target, which names it with its
// password hidden: the delivery state is shown in the admin and the API.
// A URL no longer configured is "", which fails, and is given up in time.
func (d *deliverer) webhook(target string) string {
	for _, u := range d.cfg.WebhookURLs {
		if redactURL(u) == target {
			return u
		}
	}
	return ""
}

// sign is the X-Pbxbill-Signature of body under secret.
func sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// post sends ev to one webhook; any 2xx is delivery.
func (d *deliverer) post(ctx context.Context, u string, ev *rating.Event) error {
	if u == "" {
		return errors.New("this webhook is no longer in -webhook-url")
	}
	body, err := ev.Payload()
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "pbxbill")
	req.Header.Set("X-Pbxbill-Event", ev.ID)
	req.Header.Set("X-Pbxbill-Signature", sign(d.cfg.WebhookSecret, body))
	res, err := d.client.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return fmt.Errorf("answered %s", res.Status)
	}
	return nil
}

// mail sends a state change to one address.
func (d *deliverer) mail(to string, ev *rating.Event) error {
	var data rating.TenantStateData
	if err := json.Unmarshal(ev.Data, &data); err != nil {
		return err
	}
	subject, body := data.Mail(d.st.Currency())
	return d.cfg.SMTP.send(to, subject, body, ev.ID)
}
