// Package notify sends kycd's messages to people: one-time codes by email
// (SMTP) and by SMS (Twilio, or any other sender implementing kyc.Notifier),
// and, in sandbox mode, into an outbox a developer reads over HTTP instead.
package notify

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/smtp"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/kycd/kycd"
	"github.com/kycd/kycd/kyc"
)

// Mux sends each channel through its own sender.
type Mux struct {
	senders map[string]kyc.Notifier
}

// NewMux returns a notifier that sends email through email and SMS through
// sms; either may be nil (that channel is then unavailable).
func NewMux(email, sms kyc.Notifier) *Mux {
	m := &Mux{senders: map[string]kyc.Notifier{}}
	if email != nil {
		m.senders[kycd.ChannelEmail] = email
	}
	if sms != nil {
		m.senders[kycd.ChannelPhone] = sms
	}
	return m
}

// Supports implements kyc.Notifier.
func (m *Mux) Supports(channel string) bool { _, ok := m.senders[channel]; return ok }

// Send implements kyc.Notifier.
func (m *Mux) Send(ctx context.Context, msg kyc.Message) error {
	s, ok := m.senders[msg.Channel]
	if !ok {
		return fmt.Errorf("notify: no sender for %s", msg.Channel)
	}
	return s.Send(ctx, msg)
}

// SMTP sends email through an SMTP server given as a URL:
// smtp://user:password@host:587?from=kyc@example.com (STARTTLS when the
// server offers it) or smtps://... (TLS from the start).
type SMTP struct {
	addr     string
	host     string
	from     string
	auth     smtp.Auth
	implicit bool
	timeout  time.Duration
	dialer   *net.Dialer
}

// NewSMTP parses an SMTP URL; connections go through dialer (netguard's,
// so that the server's address is checked; nil for a plain dialer).
func NewSMTP(raw string, dialer *net.Dialer) (*SMTP, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "smtp" && u.Scheme != "smtps") || u.Hostname() == "" {
		return nil, errors.New("notify: the SMTP URL must be smtp://[user:password@]host:port?from=address (or smtps:// for TLS)")
	}
	from := u.Query().Get("from")
	if !strings.Contains(from, "@") {
		return nil, errors.New("notify: the SMTP URL needs ?from=address")
	}
	port := u.Port()
	if port == "" {
		port = map[string]string{"smtp": "587", "smtps": "465"}[u.Scheme]
	}
	if dialer == nil {
		dialer = &net.Dialer{}
	}
	s := &SMTP{addr: net.JoinHostPort(u.Hostname(), port), host: u.Hostname(), from: from, implicit: u.Scheme == "smtps", timeout: 30 * time.Second, dialer: dialer}
	if u.User != nil {
		pw, _ := u.User.Password()
		s.auth = smtp.PlainAuth("", u.User.Username(), pw, u.Hostname())
	}
	return s, nil
}

// Supports implements kyc.Notifier.
func (s *SMTP) Supports(channel string) bool { return channel == kycd.ChannelEmail }

// Send implements kyc.Notifier.
func (s *SMTP) Send(ctx context.Context, m kyc.Message) error {
	if strings.ContainsAny(m.To, "\r\n") || strings.ContainsAny(m.Subject, "\r\n") {
		return errors.New("notify: header injection refused")
	}
	d := *s.dialer
	d.Timeout = s.timeout
	var conn net.Conn
	var err error
	if s.implicit {
		conn, err = tls.DialWithDialer(&d, "tcp", s.addr, &tls.Config{ServerName: s.host, MinVersion: tls.VersionTLS12})
	} else {
		conn, err = d.DialContext(ctx, "tcp", s.addr)
	}
	if err != nil {
		return fmt.Errorf("notify: smtp dial: %w", err)
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	} else {
		_ = conn.SetDeadline(time.Now().Add(s.timeout))
	}
	c, err := smtp.NewClient(conn, s.host)
	if err != nil {
		conn.Close()
		return fmt.Errorf("notify: smtp: %w", err)
	}
	defer c.Close()
	if ok, _ := c.Extension("STARTTLS"); ok && !s.implicit {
		if err := c.StartTLS(&tls.Config{ServerName: s.host, MinVersion: tls.VersionTLS12}); err != nil {
			return fmt.Errorf("notify: smtp starttls: %w", err)
		}
	}
	if s.auth != nil {
		if err := c.Auth(s.auth); err != nil {
			return fmt.Errorf("notify: smtp auth: %w", err)
		}
	}
	if err := c.Mail(s.from); err != nil {
		return fmt.Errorf("notify: smtp: %w", err)
	}
	if err := c.Rcpt(m.To); err != nil {
		return fmt.Errorf("notify: smtp rcpt: %w", err)
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("notify: smtp: %w", err)
	}
	msg := "From: " + s.from + "\r\nTo: " + m.To + "\r\nSubject: " + m.Subject +
		"\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nDate: " + time.Now().UTC().Format(time.RFC1123Z) +
		"\r\n\r\n" + m.Body + "\r\n"
	if _, err := w.Write([]byte(msg)); err != nil {
		return fmt.Errorf("notify: smtp: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("notify: smtp: %w", err)
	}
	return c.Quit()
}

// Outbox keeps messages in memory instead of sending them: the sandbox's
// email and SMS, read at /sandbox/messages. It keeps the last Limit.
type Outbox struct {
	mu    sync.Mutex
	msgs  []OutboxMessage
	Limit int
	clock kycd.Clock
}

// OutboxMessage is a message the sandbox "sent".
type OutboxMessage struct {
	Channel string    `json:"channel"`
	To      string    `json:"to"`
	Subject string    `json:"subject,omitempty"`
	Body    string    `json:"body"`
	UserID  string    `json:"userId"`
	SentAt  time.Time `json:"sentAt"`
	tenant  string
}

// NewOutbox returns an empty outbox.
func NewOutbox(clock kycd.Clock) *Outbox { return &Outbox{Limit: 1000, clock: clock} }

// Supports implements kyc.Notifier: the sandbox "sends" on every channel.
func (o *Outbox) Supports(string) bool { return true }

// Send implements kyc.Notifier.
func (o *Outbox) Send(_ context.Context, m kyc.Message) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.msgs = append(o.msgs, OutboxMessage{Channel: m.Channel, To: m.To, Subject: m.Subject, Body: m.Body, UserID: m.UserID, SentAt: o.clock.Now(), tenant: m.TenantID})
	if len(o.msgs) > o.Limit {
		o.msgs = o.msgs[len(o.msgs)-o.Limit:]
	}
	return nil
}

// Messages lists a tenant's messages, newest first, optionally only those
// to one destination.
func (o *Outbox) Messages(tenantID, to string) []OutboxMessage {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := []OutboxMessage{}
	for i := len(o.msgs) - 1; i >= 0; i-- {
		m := o.msgs[i]
		if m.tenant == tenantID && (to == "" || strings.EqualFold(m.To, to)) {
			out = append(out, m)
		}
	}
	return out
}

// Twilio sends SMS through Twilio's Messages API, configured with a URL:
// twilio://ACCOUNT_SID:AUTH_TOKEN@api.twilio.com?from=+15550001111
// (the host may point elsewhere for tests or a regional edge).
type Twilio struct {
	base, sid, token, from string
	client                 *http.Client
}

// NewTwilio parses a twilio:// URL; client should be netguard's.
func NewTwilio(raw string, client *http.Client) (*Twilio, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "twilio" || u.User == nil || u.Hostname() == "" {
		return nil, errors.New("notify: the SMS URL must be twilio://ACCOUNT_SID:AUTH_TOKEN@api.twilio.com?from=+15550001111")
	}
	token, _ := u.User.Password()
	from := u.Query().Get("from")
	if u.User.Username() == "" || token == "" || !strings.HasPrefix(from, "+") {
		return nil, errors.New("notify: the SMS URL needs the account SID, the auth token and ?from=+<E.164 number>")
	}
	scheme := "https"
	if u.Query().Get("insecure") == "true" { // tests against a local fake only
		scheme = "http"
	}
	if client == nil {
		client = &http.Client{Timeout: 15 * time.Second}
	}
	return &Twilio{base: scheme + "://" + u.Host, sid: u.User.Username(), token: token, from: from, client: client}, nil
}

// Supports implements kyc.Notifier.
func (t *Twilio) Supports(channel string) bool { return channel == kycd.ChannelPhone }

// Send implements kyc.Notifier.
func (t *Twilio) Send(ctx context.Context, m kyc.Message) error {
	form := url.Values{"To": {m.To}, "From": {t.from}, "Body": {m.Body}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.base+"/2010-04-01/Accounts/"+url.PathEscape(t.sid)+"/Messages.json",
		strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.SetBasicAuth(t.sid, t.token)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := t.client.Do(req)
	if err != nil {
		return fmt.Errorf("notify: twilio: %w", err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(res.Body, 4096))
	if res.StatusCode/100 != 2 {
		var e struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		}
		_ = json.Unmarshal(body, &e)
		return fmt.Errorf("notify: twilio answered %d (code %d: %s)", res.StatusCode, e.Code, e.Message)
	}
	return nil
}
