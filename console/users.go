package console

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/google/uuid"

	"github.com/kycd/kycd"
)

// handleUserSearch shows the look-up form.
func (s *Server) handleUserSearch() handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		msg := ""
		if r.URL.Query().Get("missing") != "" {
			msg = "No user of your tenant matches."
		}
		s.page(w, r, http.StatusOK, "users.html", &pageData{Title: "Find a user", Error: msg})
		return nil
	}
}

// handleFindUser looks a user up by id, exact email or phone (through the
// blind indexes) and goes to the user's file. The query is a form post, so
// an email or phone never sits in a URL.
func (s *Server) handleFindUser() handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if err := parseForm(w, r); err != nil {
			return err
		}
		rv := reviewerOf(r)
		q := strings.TrimSpace(r.PostForm.Get("q"))
		var (
			u   *kycd.User
			err error
		)
		switch {
		case q == "":
			err = kycd.NotFound("user")
		case uuid.Validate(q) == nil:
			u, err = s.users.FindUserByID(r.Context(), rv.TenantID, strings.ToLower(q))
		case strings.Contains(q, "@"):
			u, err = s.users.FindUserByContact(r.Context(), rv.TenantID, kycd.ChannelEmail, q)
		default:
			u, err = s.users.FindUserByContact(r.Context(), rv.TenantID, kycd.ChannelPhone, strings.NewReplacer(" ", "", "-", "", "(", "", ")", "").Replace(q))
		}
		if kycd.ErrorCode(err) == kycd.ENotFound {
			http.Redirect(w, r, "/console/users?missing=1", http.StatusSeeOther)
			return nil
		} else if err != nil {
			return err
		}
		http.Redirect(w, r, "/console/users/"+url.PathEscape(u.ID), http.StatusSeeOther)
		return nil
	}
}
