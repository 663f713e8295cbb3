package api

import (
	"net/http"
	"strings"

	"github.com/kycd/kycd"
)

// routes lists every route kycd serves.
func (s *Server) routes(mux *http.ServeMux) {
	// Core API (Uphold-compatible): authentication, countries, users, files.
	mux.Handle("POST /core/oauth2/token", s.core(s.handleToken()))
	mux.Handle("GET /core/countries", s.core(s.authed(nil, s.handleListCountries())))
	mux.Handle("GET /core/countries/{country}", s.core(s.authed(nil, s.handleGetCountry())))
	mux.Handle("POST /core/users", s.core(s.authed([]string{"core.users:create"}, s.handleCreateUser())))
	mux.Handle("GET /core/users/me", s.core(s.authed([]string{"core.users:read"}, s.handleGetMe())))
	mux.Handle("DELETE /core/users/me", s.core(s.authed([]string{"core.users:delete"}, s.handleDeleteMe())))
	mux.Handle("GET /core/terms-of-service", s.core(s.authed([]string{"core.terms-of-service:read"}, s.handleListTerms())))
	mux.Handle("GET /core/terms-of-service/{termsOfService}", s.core(s.authed([]string{"core.terms-of-service:read"}, s.handleGetTerms())))
	mux.Handle("POST /core/terms-of-service/{termsOfService}/accept", s.core(s.authed([]string{"core.terms-of-service:accept"}, s.handleAcceptTerms())))
	// KYC: the overview, every process, capabilities.
	mux.Handle("GET /core/kyc", s.core(s.authed([]string{"core.kyc:read"}, s.handleGetKYC())))
	for _, code := range []string{kycd.ProcessProfile, kycd.ProcessAddress, kycd.ProcessEmail, kycd.ProcessPhone, kycd.ProcessIdentity,
		kycd.ProcessProofOfAddress, kycd.ProcessCDD, kycd.ProcessEDD, kycd.ProcessCRA, kycd.ProcessSCS, kycd.ProcessTaxDetails} {
		mux.Handle("PATCH /core/kyc/processes/"+code, s.core(s.authed([]string{"core.kyc." + code + ":update"}, s.handleUpdateProcess(code))))
	}
	mux.Handle("POST /core/kyc/processes/email/verify", s.core(s.authed([]string{"core.kyc.email:update"}, s.handleVerifyCode(kycd.ChannelEmail))))
	mux.Handle("POST /core/kyc/processes/phone/verify", s.core(s.authed([]string{"core.kyc.phone:update"}, s.handleVerifyCode(kycd.ChannelPhone))))
	mux.Handle("GET /core/capabilities", s.core(s.authed([]string{"core.capabilities:read"}, s.handleListCapabilities())))
	mux.Handle("GET /core/capabilities/{capability}", s.core(s.authed([]string{"core.capabilities:read"}, s.handleGetCapability())))
	mux.Handle("POST /core/files", s.core(s.authed([]string{"core.files:create"}, s.handleCreateFile())))
	mux.Handle("GET /core/files/settings", s.core(s.authed([]string{"core.files:read"}, s.handleFileSettings())))
	mux.Handle("GET /core/files/{fileId}", s.core(s.authed([]string{"core.files:read"}, s.handleGetFile())))
	// Signed URLs: the URL is the credential.
	mux.Handle("POST /core/files/{fileId}/upload", s.core(s.handleUpload()))
	mux.Handle("PUT /core/files/{fileId}/upload", s.core(s.handleUpload()))
	mux.Handle("GET /core/files/{fileId}/content", s.core(s.handleDownload()))
	// Metadata of the user and of the user's files.
	for _, m := range []struct{ entity, scope string }{{kycd.MetadataUsers, "core.users.metadata"}, {kycd.MetadataFiles, "core.files.metadata"}} {
		path := "/core/" + m.entity + "/{entityId}/metadata"
		mux.Handle("GET "+path, s.core(s.authed([]string{m.scope + ":read"}, s.handleGetMetadata(m.entity))))
		mux.Handle("PUT "+path, s.core(s.authed([]string{m.scope + ":write"}, s.handleSetMetadata(m.entity))))
		mux.Handle("PATCH "+path, s.core(s.authed([]string{m.scope + ":write"}, s.handlePatchMetadata(m.entity))))
		mux.Handle("DELETE "+path, s.core(s.authed([]string{m.scope + ":write"}, s.handleDeleteMetadata(m.entity))))
	}
	// Webhook endpoints and the pull feed (kycd extensions).
	mux.Handle("POST /core/webhooks/endpoints", s.core(s.authed([]string{"core.webhooks:write"}, s.handleCreateEndpoint())))
	mux.Handle("GET /core/webhooks/endpoints", s.core(s.authed([]string{"core.webhooks:read"}, s.handleListEndpoints())))
	mux.Handle("GET /core/webhooks/endpoints/{endpointId}", s.core(s.authed([]string{"core.webhooks:read"}, s.handleGetEndpoint())))
	mux.Handle("PATCH /core/webhooks/endpoints/{endpointId}", s.core(s.authed([]string{"core.webhooks:write"}, s.handleUpdateEndpoint())))
	mux.Handle("DELETE /core/webhooks/endpoints/{endpointId}", s.core(s.authed([]string{"core.webhooks:write"}, s.handleDeleteEndpoint())))
	mux.Handle("POST /core/webhooks/endpoints/{endpointId}/rotate-secret", s.core(s.authed([]string{"core.webhooks:write"}, s.handleRotateSecret())))
	mux.Handle("GET /core/webhooks/endpoints/{endpointId}/deliveries", s.core(s.authed([]string{"core.webhooks:read"}, s.handleListDeliveries())))
	mux.Handle("POST /core/webhooks/endpoints/{endpointId}/deliveries/{deliveryId}/resend", s.core(s.authed([]string{"core.webhooks:write"}, s.handleResendDelivery())))
	mux.Handle("POST /core/webhooks/endpoints/{endpointId}/replay", s.core(s.authed([]string{"core.webhooks:write"}, s.handleReplay())))
	mux.Handle("POST /core/webhooks/endpoints/{endpointId}/test", s.core(s.authed([]string{"core.webhooks:write"}, s.handleSendTest())))
	mux.Handle("POST /core/webhooks/management-link", s.core(s.authed([]string{"core.webhooks:management-link"}, s.handleManagementLink())))
	mux.Handle("GET /core/events", s.core(s.authed([]string{"core.events:read"}, s.handleListEvents())))
	// Unknown routes under /core answer in the Core API's envelope.
	mux.Handle("/core/", s.core(s.handleNotFound()))

	// KYC Connector (Uphold-compatible): ingestions from Sumsub and Veriff,
	// and the providers' configurations (Sumsub's is a kycd extension).
	for _, p := range []string{kycd.ProviderSumsub, kycd.ProviderVeriff} {
		base, scope := "/kyc-connector/"+p, "kyc-connector."+p
		create := s.handleCreateSumsubIngestion()
		if p == kycd.ProviderVeriff {
			create = s.handleCreateVeriffIngestion()
		}
		mux.Handle("POST "+base+"/ingestions", s.core(s.authed([]string{scope + ".ingestions:create"}, create)))
		mux.Handle("GET "+base+"/ingestions", s.core(s.authed([]string{scope + ".ingestions:read"}, s.handleListIngestions(p))))
		mux.Handle("GET "+base+"/ingestions/{ingestionId}", s.core(s.authed([]string{scope + ".ingestions:read"}, s.handleGetIngestion(p))))
		mux.Handle("GET "+base+"/config", s.core(s.authed([]string{scope + ".config:read"}, s.handleGetConnectorConfig(p))))
		// The provider's webhooks: its signature is the credential.
		mux.Handle("POST "+base+"/webhooks/{tenantId}", s.core(s.handleProviderWebhook(p)))
	}
	mux.Handle("PUT /kyc-connector/veriff/config", s.core(s.authed([]string{"kyc-connector.veriff.config:write"}, s.handleSetVeriffConfig())))
	mux.Handle("PUT /kyc-connector/sumsub/config", s.core(s.authed([]string{"kyc-connector.sumsub.config:write"}, s.handleSetSumsubConfig())))
	mux.Handle("/kyc-connector/", s.core(s.handleNotFound()))

	// Checks (Upvest-compatible): externally performed checks of a user.
	mux.Handle("GET /users/{user_id}/checks", s.plain(s.authed([]string{scopeChecksRead}, s.handleListChecks())))
	mux.Handle("POST /users/{user_id}/checks", s.plain(s.authed(nil, s.handleCreateCheck())))
	mux.Handle("GET /users/{user_id}/checks/{check_id}", s.plain(s.authed([]string{scopeChecksRead}, s.handleGetCheck())))

	// KYC levels and applications (STASIS-compatible): legal_entity_uuid is
	// the tenant, client_uuid the kycd user, both in the query.
	mux.Handle("GET /v1/clients/kyc-level-info/", s.plain(s.authed([]string{scopeApplicationsRead}, s.handleLevelInfo())))
	mux.Handle("POST /v1/clients/kyc-level-info/", s.plain(s.authed([]string{scopeApplicationsWrite}, s.handleCreateApplication())))
	mux.Handle("GET /v1/kyc/{uuid}/", s.plain(s.authed([]string{scopeApplicationsRead}, s.handleGetApplication())))
	mux.Handle("PATCH /v1/kyc/{uuid}/", s.plain(s.authed([]string{scopeApplicationsWrite}, s.handleUpdateApplication())))
	mux.Handle("GET /v1/kyc/{uuid}/attributes/{key}/", s.plain(s.authed([]string{scopeApplicationsRead}, s.handleGetApplicationAttribute())))
	mux.Handle("POST /v1/kyc/{uuid}/send-to-review/", s.plain(s.authed([]string{scopeApplicationsWrite}, s.handleSendToReview())))
	mux.Handle("GET /v1/attributes/{key}/definitions/", s.plain(s.authed([]string{scopeApplicationsRead}, s.handleAttributeDefinitions())))
	mux.Handle("GET /v1/legal_documents/", s.plain(s.authed([]string{scopeApplicationsRead}, s.handleLegalDocuments())))
	mux.Handle("POST /v1/documents/files/", s.plain(s.authed([]string{scopeApplicationsWrite}, s.handleUploadDocumentFiles())))
	mux.Handle("POST /v1/documents/", s.plain(s.authed([]string{scopeApplicationsWrite}, s.handleCreateDocument())))
	mux.Handle("POST /v1/signatures/send-code/", s.plain(s.authed([]string{scopeApplicationsWrite}, s.handleSendSignCode())))
	// Compliance review and the tenant's levels.
	mux.Handle("GET /admin/kyc-applications", s.plain(s.authed([]string{scopeAdminApplications}, s.handleReviewQueue())))
	mux.Handle("GET /admin/kyc-applications/{uuid}", s.plain(s.authed([]string{scopeAdminApplications}, s.handleAdminApplication())))
	mux.Handle("POST /admin/kyc-applications/{uuid}/decision", s.plain(s.authed([]string{scopeAdminReview}, s.handleDecideApplication())))
	mux.Handle("GET /admin/kyc-levels", s.plain(s.authed([]string{scopeAdminApplications}, s.handleGetLevels())))
	mux.Handle("PUT /admin/kyc-levels", s.plain(s.authed([]string{scopeAdminLevelsReplace}, s.handleReplaceLevels())))

	// The page a webhook management link opens (the link is the credential).
	mux.Handle("GET /webhooks/manage", s.plain(s.handleManagePage()))

	// Screening: the lists in force, and searches of them.
	mux.Handle("GET /admin/screening/lists", s.plain(s.authed([]string{scopeAdminScreeningRead}, s.handleScreeningLists())))
	mux.Handle("POST /admin/screening/search", s.plain(s.authed([]string{scopeAdminScreeningRead}, s.handleScreeningSearch())))

	// Cases: what reviewers decide (screening matches).
	mux.Handle("GET /admin/cases", s.plain(s.authed([]string{scopeAdminCasesRead}, s.handleListCases())))
	mux.Handle("GET /admin/cases/{id}", s.plain(s.authed([]string{scopeAdminCasesRead}, s.handleGetCase())))
	mux.Handle("POST /admin/cases/{id}/decision", s.plain(s.authed([]string{scopeAdminCasesReview}, s.handleDecideCase())))

	// Audit trail, for a tenant's compliance tooling.
	mux.Handle("GET /admin/audit", s.plain(s.authed([]string{"admin.audit:read"}, s.handleListAudit())))

	// Sandbox mode only: the messages kycd "sent" and the test clock.
	if s.sandbox != nil {
		mux.Handle("GET /sandbox/messages", s.plain(s.authed(nil, s.handleSandboxMessages())))
		mux.Handle("GET /sandbox/clock", s.plain(s.authed(nil, s.handleSandboxClock())))
		mux.Handle("POST /sandbox/clock", s.plain(s.authed(nil, s.handleAdvanceSandboxClock())))
		mux.Handle("POST /v1/sandbox/kyc/{uuid}/status/", s.plain(s.authed([]string{scopeApplicationsWrite}, s.handleSandboxApplicationStatus())))
	}

	// Operations.
	mux.Handle("GET /healthz", s.plain(s.handleHealthz()))
	mux.Handle("GET /readyz", s.plain(s.handleReadyz()))
	if s.metricsOnAPI {
		mux.Handle("GET /metrics", s.plain(s.handleMetrics()))
	}
	mux.Handle("GET /openapi.json", s.plain(s.handleOpenAPI()))
	mux.Handle("/", s.plain(s.handleNotFound()))
}

// handleNotFound answers requests no route matched: 405 with Allow when the
// path exists for other methods, 404 otherwise.
func (s *Server) handleNotFound() handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		var allowed []string
		for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
			probe := r.Clone(r.Context())
			probe.Method = m
			if _, pattern := s.mux.Handler(probe); pattern != "/" && pattern != "/core/" && pattern != "/kyc-connector/" {
				allowed = append(allowed, m)
			}
		}
		if len(allowed) > 0 {
			w.Header().Set("Allow", strings.Join(allowed, ", "))
			return &kycd.Error{Code: kycd.EMethodNotAllowed, Message: r.Method + " is not allowed here; use " + strings.Join(allowed, " or ")}
		}
		return &kycd.Error{Code: "route_not_found", Message: "No route matches " + r.Method + " " + r.URL.Path}
	}
}
