package console

import "net/http"

// routes lists every route of the console.
func (s *Server) routes(mux *http.ServeMux) {
	mux.Handle("GET /console/static/", s.handleStatic())
	mux.Handle("GET /console/login", s.handle(s.handleLoginPage()))
	mux.Handle("POST /console/login", s.handle(s.handleLogin()))
	mux.Handle("POST /console/logout", s.handle(s.handleLogout()))
	if s.oidc != nil {
		mux.Handle("GET /console/oidc/login", s.handle(s.handleOIDCLogin()))
		mux.Handle("GET /console/oidc/callback", s.handle(s.handleOIDCCallback()))
	}

	// The screening queue and its cases.
	mux.Handle("GET /console/{$}", s.handle(s.signedIn(s.handleHome())))
	mux.Handle("GET /console/cases", s.handle(s.signedIn(s.handleQueue())))
	mux.Handle("GET /console/cases/{id}", s.handle(s.signedIn(s.handleCase())))
	mux.Handle("POST /console/cases/{id}/take", s.handle(s.signedIn(s.handleTake(s.caseWork))))
	mux.Handle("POST /console/cases/{id}/assign", s.handle(s.signedIn(s.handleAssign(s.caseWork))))
	mux.Handle("POST /console/cases/{id}/decision", s.handle(s.signedIn(s.handleDecide())))

	// Users' files.
	mux.Handle("GET /console/users", s.handle(s.signedIn(s.handleUserSearch())))
	mux.Handle("POST /console/users/search", s.handle(s.signedIn(s.handleFindUser())))
	mux.Handle("GET /console/users/{id}", s.handle(s.signedIn(s.handleUser())))

	// The whole user file's documents, the audit trail, the screening
	// lists' versions and deltas, and the reviewers (issue 19, points 6-8).
	mux.Handle("GET /console/users/{id}/files/{file}", s.handle(s.signedIn(s.handleFile())))
	mux.Handle("GET /console/audit", s.handle(s.signedIn(s.handleAudit())))
	mux.Handle("GET /console/lists", s.handle(s.signedIn(s.handleLists())))
	mux.Handle("GET /console/lists/{source}", s.handle(s.signedIn(s.handleList())))
	mux.Handle("GET /console/lists/{source}/{version}", s.handle(s.signedIn(s.handleListVersion())))
	mux.Handle("GET /console/reviewers", s.handle(s.signedIn(s.handleReviewers())))
	mux.Handle("POST /console/reviewers/{id}/disable", s.handle(s.signedIn(s.handleDisableReviewer(true))))
	mux.Handle("POST /console/reviewers/{id}/enable", s.handle(s.signedIn(s.handleDisableReviewer(false))))

	// The other queues (issue 19, point 4) and the review of applications
	// (point 5).
	mux.Handle("GET /console/applications", s.handle(s.signedIn(s.handleApplications())))
	mux.Handle("GET /console/applications/{id}", s.handle(s.signedIn(s.handleApplication())))
	mux.Handle("POST /console/applications/{id}/take", s.handle(s.signedIn(s.handleTake(s.applicationWork))))
	mux.Handle("POST /console/applications/{id}/assign", s.handle(s.signedIn(s.handleAssign(s.applicationWork))))
	mux.Handle("POST /console/applications/{id}/decision", s.handle(s.signedIn(s.handleDecideApplication())))
	mux.Handle("GET /console/checks", s.handle(s.signedIn(s.handleChecks())))
	mux.Handle("GET /console/ingestions", s.handle(s.signedIn(s.handleIngestions())))
	mux.Handle("GET /console/webhooks", s.handle(s.signedIn(s.handleWebhooks())))

	mux.Handle("/console/", s.handle(s.handleNotFound()))
}
