package api

import (
	"fmt"
	"net/http"
	"time"

	"github.com/kycd/kycd"
	"github.com/kycd/kycd/notify"
)

// Sandbox is what sandbox mode adds: the outbox of the messages kycd would
// have sent (one-time codes) and a clock an integrator may move forward to
// see cooldowns and expiry end.
type Sandbox struct {
	Outbox *notify.Outbox
	Clock  *kycd.OffsetClock
}

// handleSandboxMessages lists the tenant's messages, newest first
// (?to=<email or phone> narrows them).
func (s *Server) handleSandboxMessages() handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		p := principalFrom(r.Context())
		encode(w, http.StatusOK, map[string]any{"messages": s.sandbox.Outbox.Messages(p.TenantID, r.URL.Query().Get("to"))})
		return nil
	}
}

type clockView struct {
	Now    time.Time `json:"now"`
	Offset string    `json:"offset"`
}

func (s *Server) clockView() clockView {
	return clockView{Now: s.sandbox.Clock.Now(), Offset: s.sandbox.Clock.Offset().String()}
}

func (s *Server) handleSandboxClock() handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		encode(w, http.StatusOK, s.clockView())
		return nil
	}
}

// handleAdvanceSandboxClock moves the sandbox's clock forward by a Go
// duration ({"advance": "25h"}). It never goes back, nor more than
// kycd.MaxClockOffset ahead of the system clock. The clock is the whole
// process's: access tokens, and every tenant, age with it.
func (s *Server) handleAdvanceSandboxClock() handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		req, err := decode[struct {
			Advance string `json:"advance"`
		}](s, w, r, "advance-sandbox-clock-request")
		if err != nil {
			return err
		}
		d, err := time.ParseDuration(req.Advance)
		if err != nil || d <= 0 {
			return kycd.Invalid("body", kycd.Violation{Property: "advance", Rule: "format", RuleParams: map[string]any{"format": "positive Go duration (25h, 90m)"}})
		}
		if err := s.sandbox.Clock.Advance(d); err != nil {
			offset := s.sandbox.Clock.Offset()
			left := max(kycd.MaxClockOffset-offset, 0)
			e := kycd.Invalid("body", kycd.Violation{Property: "advance", Rule: "maximum", RuleParams: map[string]any{"limit": left.String()}})
			e.Message = fmt.Sprintf("The sandbox clock may be at most %.0fh ahead of the system clock; it is %s ahead, so it can move %s more",
				kycd.MaxClockOffset.Hours(), offset, left)
			return e
		}
		encode(w, http.StatusOK, s.clockView())
		return nil
	}
}
