package console

import (
	"net/http"
	"strings"

	"github.com/kycd/kycd"
	"github.com/kycd/kycd/reviewers"
)

// loginPage is the sign-in form's data.
type loginPage struct {
	Next        string
	Email       string
	RequireTOTP bool
	OIDC        bool
}

// handleLoginPage shows the sign-in form.
func (s *Server) handleLoginPage() handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		s.page(w, r, http.StatusOK, "login.html", &pageData{Title: "Sign in",
			Page: loginPage{Next: safeNext(r.URL.Query().Get("next")), RequireTOTP: s.reviewers.RequiresTOTP(), OIDC: s.oidc != nil}})
		return nil
	}
}

// handleLogin signs a reviewer in: a session cookie, then the page asked
// for (post, redirect, get). A failure shows the form again, saying only
// that something was wrong.
func (s *Server) handleLogin() handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
		if err := r.ParseForm(); err != nil {
			return kycd.Invalid("body", kycd.Violation{Property: "form", Rule: "format"})
		}
		email, next := strings.TrimSpace(r.PostForm.Get("email")), safeNext(r.PostForm.Get("next"))
		again := func(status int, message string) error {
			s.page(w, r, status, "login.html", &pageData{Title: "Sign in", Error: message,
				Page: loginPage{Next: next, Email: email, RequireTOTP: s.reviewers.RequiresTOTP(), OIDC: s.oidc != nil}})
			return nil
		}
		if !s.allowSignIn(r) {
			return again(http.StatusTooManyRequests, "Too many sign-in attempts from your address: wait a minute.")
		}
		sess, err := s.reviewers.SignIn(r.Context(), email, r.PostForm.Get("password"), r.PostForm.Get("code"))
		if code := kycd.ErrorCode(err); code == kycd.ESignInFailed || code == kycd.ETooManyRequests {
			e, _ := kycd.AsError(err)
			return again(statusOf(err), e.Message+".")
		} else if err != nil {
			return err
		}
		s.setSession(w, sess)
		http.Redirect(w, r, next, http.StatusSeeOther)
		return nil
	}
}

// handleLogout ends the session and forgets the cookie.
func (s *Server) handleLogout() handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if c, err := r.Cookie(s.cookie); err == nil {
			if err := s.reviewers.SignOut(r.Context(), c.Value); err != nil {
				return err
			}
		}
		s.clearCookie(w)
		http.Redirect(w, r, "/console/login", http.StatusSeeOther)
		return nil
	}
}

// setSession gives the browser a session's cookie.
func (s *Server) setSession(w http.ResponseWriter, sess *reviewers.Session) {
	http.SetCookie(w, &http.Cookie{Name: s.cookie, Value: sess.Token, Path: "/console/", Expires: sess.Expires,
		HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode})
}

func (s *Server) clearCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: s.cookie, Value: "", Path: "/console/", MaxAge: -1, HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode})
}

// handleHome sends a reviewer to the queue.
func (s *Server) handleHome() handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		http.Redirect(w, r, "/console/cases", http.StatusSeeOther)
		return nil
	}
}
