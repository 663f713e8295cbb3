package notify

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kycd/kycd"
	"github.com/kycd/kycd/kyc"
	"github.com/kycd/kycd/mock"
	"github.com/kycd/kycd/netguard"
)

// fakeSMTP is a minimal SMTP server: it accepts one message and keeps it.
type fakeSMTP struct {
	ln   net.Listener
	mu   sync.Mutex
	from string
	to   []string
	data string
}

func newFakeSMTP(t *testing.T) *fakeSMTP {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeSMTP{ln: ln}
	t.Cleanup(func() { ln.Close() })
	go f.serve()
	return f
}

func (f *fakeSMTP) serve() {
	for {
		c, err := f.ln.Accept()
		if err != nil {
			return
		}
		go f.handle(c)
	}
}

func (f *fakeSMTP) handle(c net.Conn) {
	defer c.Close()
	tp := textproto.NewConn(c)
	tp.PrintfLine("220 fake ESMTP")
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		cmd := strings.ToUpper(strings.Fields(line + " x")[0])
		switch cmd {
		case "EHLO", "HELO":
			tp.PrintfLine("250-fake\r\n250 AUTH PLAIN")
		case "AUTH":
			tp.PrintfLine("235 ok")
		case "MAIL":
			f.mu.Lock()
			f.from = line
			f.mu.Unlock()
			tp.PrintfLine("250 ok")
		case "RCPT":
			if strings.Contains(line, "unknown@") {
				tp.PrintfLine("550 5.1.1 <unknown@example.com>: no such user")
				continue
			}
			f.mu.Lock()
			f.to = append(f.to, line)
			f.mu.Unlock()
			tp.PrintfLine("250 ok")
		case "DATA":
			tp.PrintfLine("354 go")
			body, _ := tp.ReadDotLines()
			f.mu.Lock()
			f.data = strings.Join(body, "\n")
			f.mu.Unlock()
			tp.PrintfLine("250 queued")
		case "QUIT":
			tp.PrintfLine("221 bye")
			return
		default:
			tp.PrintfLine("250 ok")
		}
	}
}

func TestSMTP(t *testing.T) {
	f := newFakeSMTP(t)
	if _, err := NewSMTP("smtp://"+f.ln.Addr().String(), nil); err == nil {
		t.Error("an SMTP URL without from was accepted")
	}
	// PLAIN auth refuses an unencrypted connection except to localhost: the fake is on 127.0.0.1.
	addr := "smtp://user:pw@" + strings.Replace(f.ln.Addr().String(), "127.0.0.1", "localhost", 1) + "?from=kyc@example.com"
	// Through netguard, a mail server on loopback is refused unless private networks are allowed.
	guarded, err := NewSMTP(addr, netguard.Policy{}.Dialer())
	if err != nil {
		t.Fatal(err)
	}
	if err := guarded.Send(context.Background(), kyc.Message{Channel: kycd.ChannelEmail, To: "john@example.com", Body: "x"}); !errors.Is(err, netguard.ErrBlocked) {
		t.Errorf("loopback mail server through netguard: %v", err)
	}
	s, err := NewSMTP(addr, netguard.Policy{AllowPrivate: true}.Dialer())
	if err != nil {
		t.Fatal(err)
	}
	msg := kyc.Message{Channel: kycd.ChannelEmail, To: "john@example.com", Subject: "Your verification code", Body: "Your verification code is 123456."}
	if err := s.Send(context.Background(), msg); err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	from, to, data := f.from, f.to, f.data
	f.mu.Unlock()
	if !strings.Contains(from, "kyc@example.com") || len(to) != 1 || !strings.Contains(to[0], "john@example.com") ||
		!strings.Contains(data, "Subject: Your verification code") || !strings.Contains(data, "123456") {
		t.Fatalf("sent: from %q to %v data %q", from, to, data)
	}
	// Header injection is refused; a refused recipient is an error.
	if err := s.Send(context.Background(), kyc.Message{Channel: kycd.ChannelEmail, To: "a@example.com\r\nBcc: x@example.com", Body: "x"}); err == nil {
		t.Error("header injection accepted")
	}
	if err := s.Send(context.Background(), kyc.Message{Channel: kycd.ChannelEmail, To: "unknown@example.com", Body: "x"}); err == nil {
		t.Error("a refused recipient was not an error")
	}
}

func TestTwilio(t *testing.T) {
	var got struct {
		path, user, pass, to, from, body string
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		got.path = r.URL.Path
		got.user, got.pass, _ = r.BasicAuth()
		got.to, got.from, got.body = r.PostForm.Get("To"), r.PostForm.Get("From"), r.PostForm.Get("Body")
		if got.to == "+15550000000" {
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"code": 21211, "message": "Invalid 'To' Phone Number", "status": 400}`)
			return
		}
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, `{"sid": "SM123", "status": "queued"}`)
	}))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	for _, bad := range []string{"twilio://" + host, "twilio://AC1:tok@" + host, "sms://AC1:tok@" + host + "?from=+1"} {
		if _, err := NewTwilio(bad, nil); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
	tw, err := NewTwilio("twilio://AC123:secret@"+host+"?from=%2B15550001111&insecure=true", srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	if !tw.Supports(kycd.ChannelPhone) || tw.Supports(kycd.ChannelEmail) {
		t.Error("channels")
	}
	if err := tw.Send(context.Background(), kyc.Message{Channel: kycd.ChannelPhone, To: "+447400123456", Body: "Your verification code is 123456"}); err != nil {
		t.Fatal(err)
	}
	if got.path != "/2010-04-01/Accounts/AC123/Messages.json" || got.user != "AC123" || got.pass != "secret" ||
		got.to != "+447400123456" || got.from != "+15550001111" || !strings.Contains(got.body, "123456") {
		t.Fatalf("request: %+v", got)
	}
	err = tw.Send(context.Background(), kyc.Message{Channel: kycd.ChannelPhone, To: "+15550000000", Body: "x"})
	if err == nil || !strings.Contains(err.Error(), "21211") {
		t.Errorf("Twilio error: %v", err)
	}
}

func TestOutboxAndMux(t *testing.T) {
	o := NewOutbox(mock.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)))
	o.Limit = 2
	m := NewMux(o, nil)
	if !m.Supports(kycd.ChannelEmail) || m.Supports(kycd.ChannelPhone) {
		t.Error("mux channels")
	}
	if err := m.Send(context.Background(), kyc.Message{Channel: kycd.ChannelPhone, To: "+1"}); err == nil {
		t.Error("a channel without a sender sent")
	}
	for i, to := range []string{"a@example.com", "b@example.com", "A@example.com"} {
		tenant := "t1"
		if i == 1 {
			tenant = "t2"
		}
		if err := m.Send(context.Background(), kyc.Message{Channel: kycd.ChannelEmail, To: to, Body: to, TenantID: tenant}); err != nil {
			t.Fatal(err)
		}
	}
	if got := o.Messages("t1", "a@example.com"); len(got) != 1 || got[0].Body != "A@example.com" {
		t.Errorf("t1 messages (the oldest dropped, case-insensitive match): %+v", got)
	}
	if got := o.Messages("t3", ""); len(got) != 0 {
		t.Errorf("another tenant's messages: %+v", got)
	}
}

// TestGuardedSpellings: through netguard, a mail server and an SMS API on
// loopback are refused at dial time however the address is spelled
// (IPv4-mapped, IPv4-compatible, SIIT, 6to4, NAT64), and never reached.
func TestGuardedSpellings(t *testing.T) {
	f := newFakeSMTP(t)
	var hits atomic.Int64
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer api.Close()
	_, smtpPort, _ := net.SplitHostPort(f.ln.Addr().String())
	_, apiPort, _ := net.SplitHostPort(api.Listener.Addr().String())
	guard := netguard.Policy{}
	for _, h := range []string{"::ffff:127.0.0.1", "::7f00:1", "::ffff:0:7f00:1", "2002:7f00:1::1", "64:ff9b::7f00:1"} {
		mail, err := NewSMTP("smtp://"+net.JoinHostPort(h, smtpPort)+"?from=kyc@example.com", guard.Dialer())
		if err != nil {
			t.Fatal(err)
		}
		if err := mail.Send(context.Background(), kyc.Message{Channel: kycd.ChannelEmail, To: "john@example.com", Body: "x"}); !errors.Is(err, netguard.ErrBlocked) {
			t.Errorf("mail server at %s: %v", h, err)
		}
		sms, err := NewTwilio("twilio://AC1:tok@"+net.JoinHostPort(h, apiPort)+"?from=%2B15550001111&insecure=true", guard.Client(5*time.Second, netguard.NoRedirects))
		if err != nil {
			t.Fatal(err)
		}
		if err := sms.Send(context.Background(), kyc.Message{Channel: kycd.ChannelPhone, To: "+447700900123", Body: "x"}); !errors.Is(err, netguard.ErrBlocked) {
			t.Errorf("SMS API at %s: %v", h, err)
		}
	}
	f.mu.Lock()
	from := f.from
	f.mu.Unlock()
	if hits.Load() != 0 || from != "" {
		t.Errorf("reached: %d SMS requests, mail from %q", hits.Load(), from)
	}
}
