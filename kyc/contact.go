package kyc

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/kycd/kycd"
)

// Notifier sends one-time codes to people (email, SMS).
type Notifier interface {
	// Supports reports whether the notifier can send on a channel.
	Supports(channel string) bool
	// Send delivers a message; it must not log its body.
	Send(ctx context.Context, m Message) error
}

// Message is one message to a person.
type Message struct {
	Channel  string
	To       string
	Subject  string
	Body     string
	TenantID string
	UserID   string
}

// issueCode adds a one-time code to a change and the job that sends it.
func (s *Service) issueCode(st *state, c *change, channel, destination string) error {
	if s.notifier == nil || !s.notifier.Supports(channel) {
		what := map[string]string{kycd.ChannelEmail: "email", kycd.ChannelPhone: "SMS"}[channel]
		return kycd.NotAllowed("No "+what+" sender is configured to verify the "+channel+"; submit it partner-verified (with output.verifiedAt)", "permission-denied")
	}
	vc, err := kycd.NewVerificationCode(st.ctx, s.vault, st.user.TenantID, st.user.ID, channel, destination, st.now)
	if err != nil {
		return err
	}
	c.code = vc
	c.jobs = append(c.jobs, kycd.SendCodeArgs{TenantID: vc.TenantID, CodeID: vc.ID})
	return nil
}

// updateEmail changes the user's email. With output.verifiedAt the partner
// verified it and the process is ok at once; without, kycd sends a
// one-time code to the address and the process waits for it.
func (s *Service) updateEmail(st *state, up *kycd.ProcessUpdate) (*change, error) {
	in, err := inputOf[kycd.EmailInput](up)
	if err != nil {
		return nil, err
	}
	out, err := outputOf[kycd.VerifiedAtOutput](up)
	if err != nil {
		return nil, err
	}
	email := strings.TrimSpace(in.Email)
	if !plausibleEmail(email) {
		return nil, &kycd.Error{Code: kycd.EEmailIncorrectOrDisallowed, Message: "The email is incorrect or disallowed"}
	}
	if err := s.policy.CheckEmail(email); err != nil {
		return nil, err
	}
	p := st.editable(kycd.ProcessEmail)
	if p.Status == kycd.StatusOK && strings.EqualFold(email, st.user.Email) {
		return nil, kycd.NotAllowed("Email already verified", "email-already-verified")
	}
	u := *st.user
	u.Email = email
	return s.contactChange(st, p, &u, kycd.ChannelEmail, email, out)
}

// plausibleEmail refuses addresses no mail can reach: no domain, a domain
// without a dot, or spaces.
func plausibleEmail(e string) bool {
	local, domain, ok := strings.Cut(e, "@")
	return ok && local != "" && strings.Contains(domain, ".") && !strings.ContainsAny(e, " \t") &&
		!strings.HasPrefix(domain, ".") && !strings.HasSuffix(domain, ".")
}

// updatePhone changes the user's phone, partner-verified or with a code.
func (s *Service) updatePhone(st *state, up *kycd.ProcessUpdate) (*change, error) {
	in, err := inputOf[kycd.PhoneInput](up)
	if err != nil {
		return nil, err
	}
	out, err := outputOf[kycd.VerifiedAtOutput](up)
	if err != nil {
		return nil, err
	}
	number, country := in.Phone, in.Country
	phone := kycd.Phone{Number: number, Country: country}
	if s.policy.Restricted(country) {
		return nil, countryNotSupported("input.country")
	}
	if err := kycd.CheckPhone(phone, "input.country", s.geo); err != nil {
		return nil, err
	}
	p := st.editable(kycd.ProcessPhone)
	if p.Status == kycd.StatusOK && st.user.Phone != nil && st.user.Phone.Number == number {
		return nil, kycd.NotAllowed("Phone already verified", "phone-already-verified")
	}
	u := *st.user
	u.Phone = &phone
	return s.contactChange(st, p, &u, kycd.ChannelPhone, number, out)
}

// contactChange is the change of the email or phone process: the user's new
// email or phone, and the process ok at once when the partner verified it
// (output.verifiedAt), or pending with a one-time code sent to destination.
func (s *Service) contactChange(st *state, p *kycd.Process, u *kycd.User, channel, destination string, output *kycd.VerifiedAtOutput) (*change, error) {
	c := &change{user: u, action: "kyc." + p.Code + ".updated"}
	if output != nil {
		at, err := verifiedAt(output.VerifiedAt, "output.verifiedAt", st.now)
		if err != nil {
			return nil, err
		}
		p.Status, p.Model, p.Output = kycd.StatusOK, kycd.ModelPartner, map[string]any{"verifiedAt": at}
	} else {
		if err := s.issueCode(st, c, channel, destination); err != nil {
			return nil, err
		}
		p.Status, p.Model, p.Output = kycd.StatusPending, kycd.ModelPlatform, nil
	}
	c.put(p)
	c.details = map[string]any{"model": p.Model}
	return c, nil
}

// VerifyCode confirms a one-time code of the email or phone process. A
// wrong code counts as an attempt; after kycd.CodeMaxAttempts, or once expired or
// used, the code is refused and a new one must be requested.
func (s *Service) VerifyCode(ctx context.Context, u *kycd.User, channel, code, lang string) (*ProcessView, error) {
	tag, err := parseLocale(lang)
	if err != nil {
		return nil, err
	}
	codes, ok := s.store.(kycd.VerificationCodeStore)
	if !ok {
		return nil, fmt.Errorf("kyc: the store keeps no verification codes")
	}
	process := map[string]string{kycd.ChannelEmail: kycd.ProcessEmail, kycd.ChannelPhone: kycd.ProcessPhone}[channel]
	st, _, err := s.apply(ctx, u, func(st *state) (*change, error) {
		vc, err := codes.FindVerificationCode(ctx, u.TenantID, u.ID, channel)
		if kycd.ErrorCode(err) == kycd.ENotFound {
			return nil, kycd.NotAllowed("No code was sent; update the process to receive one", "verification-code-not-requested")
		} else if err != nil {
			return nil, err
		}
		problem, err := vc.Check(ctx, s.vault, code, st.now)
		if err != nil {
			return nil, err
		}
		if problem == kycd.CodeAccepted && !s.codeStillFor(st.user, channel, vc.Destination) {
			problem = kycd.CodeWrong
		}
		switch problem {
		case kycd.CodeUsed:
			return nil, kycd.NotAllowed("The code was used already", "verification-code-used")
		case kycd.CodeExpired:
			return nil, &kycd.Error{Code: kycd.ECodeExpired, Message: "The code has expired; update the process to receive a new one"}
		case kycd.CodeAttemptsExceeded:
			return nil, kycd.NotAllowed("Too many wrong codes; update the process to receive a new one", "verification-code-attempts-exceeded")
		case kycd.CodeWrong:
			if err := codes.RecordCodeAttempt(ctx, u.TenantID, vc.ID, kycd.CodeRejected(vc)); err != nil {
				return nil, err
			}
			return nil, &kycd.Error{Code: kycd.ECodeInvalid, Message: "The code is invalid", Details: map[string]any{"attemptsLeft": vc.AttemptsLeft()}}
		}
		p := st.editable(process)
		p.Status, p.Model, p.Output = kycd.StatusOK, kycd.ModelPlatform, map[string]any{"verifiedAt": st.now.Format(time.RFC3339Nano)}
		c := &change{useCode: vc.ID, action: "kyc." + channel + ".verified", details: map[string]any{"codeId": vc.ID}}
		c.put(p)
		return c, nil
	})
	if err != nil {
		return nil, err
	}
	return s.view(st, process, true, tag), nil
}

// codeStillFor reports whether a code was sent to what the user has now.
func (s *Service) codeStillFor(u *kycd.User, channel, destination string) bool {
	if channel == kycd.ChannelEmail {
		return strings.EqualFold(u.Email, destination)
	}
	return u.Phone != nil && u.Phone.Number == destination
}

// SendCode sends a one-time code (the work of a SendCodeArgs job).
func (s *Service) SendCode(ctx context.Context, args kycd.SendCodeArgs) error {
	codes, ok := s.store.(kycd.VerificationCodeStore)
	if !ok || s.notifier == nil {
		return fmt.Errorf("kyc: cannot send codes")
	}
	vc, err := codes.FindCodeToSend(ctx, args.TenantID, args.CodeID)
	if kycd.ErrorCode(err) == kycd.ENotFound {
		return nil // sent, used or replaced already: nothing to do
	} else if err != nil {
		return err
	}
	if err := s.sendCode(ctx, vc); err != nil {
		return err
	}
	// Sent, the plaintext is forgotten: only its digest remains.
	vc.Code = ""
	return codes.MarkCodeSent(ctx, vc, kycd.CodeSent(vc))
}

// sendCode sends a code to its destination, by the notifier (outside any
// transaction).
func (s *Service) sendCode(ctx context.Context, vc *kycd.VerificationCode) error {
	// Sign codes of the levels surface ("sign:sms:<application>") go
	// by SMS or email like verification codes, worded as signatures.
	channel, what := vc.Channel, "verification"
	if rest, ok := strings.CutPrefix(vc.Channel, "sign:"); ok {
		channel, what = map[bool]string{true: kycd.ChannelPhone, false: kycd.ChannelEmail}[strings.HasPrefix(rest, "sms:")], "signature"
	}
	m := Message{Channel: channel, To: vc.Destination, TenantID: vc.TenantID, UserID: vc.UserID}
	if channel == kycd.ChannelEmail {
		m.Subject = "Your " + what + " code"
		m.Body = fmt.Sprintf("Your %s code is %s. It expires in %d minutes. If you did not ask for it, ignore this message.",
			what, vc.Code, int(kycd.CodeLifetime.Minutes()))
	} else {
		m.Body = fmt.Sprintf("Your %s code is %s", what, vc.Code)
	}
	if err := s.notifier.Send(ctx, m); err != nil {
		// Mail and SMS servers quote the recipient in their errors: the
		// error is logged and kept with the job, so it must not name them.
		return errors.New(strings.ReplaceAll(err.Error(), vc.Destination, "[recipient]"))
	}
	return nil
}
