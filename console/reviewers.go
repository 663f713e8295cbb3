package console

import (
	"net/http"

	"github.com/google/uuid"

	"github.com/kycd/kycd"
	"github.com/kycd/kycd/reviewers"
)

// reviewersPage is the tenant's reviewers, for an admin.
type reviewersPage struct {
	Self string
	List []*kycd.Reviewer
}

// reviewerNotices are what a change of a reviewer tells the admin.
var reviewerNotices = map[string]string{
	"disabled": "The reviewer is disabled: their sessions have ended and they cannot sign in.",
	"enabled":  "The reviewer is enabled again.",
}

// handleReviewers lists the tenant's reviewers: email, role, last
// sign-in, whether disabled (admins only).
func (s *Server) handleReviewers() handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		rv := reviewerOf(r)
		if !reviewers.Can(rv.Role, reviewers.CanManage) {
			return errForbidden
		}
		list, err := s.reviewers.Reviewers(r.Context(), rv.TenantID)
		if err != nil {
			return err
		}
		s.page(w, r, http.StatusOK, "reviewers.html", &pageData{Title: "Reviewers", Notice: reviewerNotices[r.URL.Query().Get("done")],
			Page: reviewersPage{Self: rv.ID, List: list}})
		return nil
	}
}

// handleDisableReviewer disables (their sessions end at once) or enables
// a reviewer of the admin's tenant, audited with the admin as actor.
func (s *Server) handleDisableReviewer(disable bool) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		rv := reviewerOf(r)
		if !reviewers.Can(rv.Role, reviewers.CanManage) {
			return errForbidden
		}
		id := r.PathValue("id")
		if uuid.Validate(id) != nil {
			return kycd.NotFound("reviewer")
		}
		if err := s.reviewers.SetDisabled(r.Context(), rv.TenantID, id, disable); err != nil {
			return err
		}
		done := "enabled"
		if disable {
			done = "disabled"
		}
		http.Redirect(w, r, "/console/reviewers?done="+done, http.StatusSeeOther)
		return nil
	}
}
