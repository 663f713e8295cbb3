package api

import (
	"html/template"
	"net/http"
	"strconv"
	"time"

	"github.com/kycd/kycd"
)

// managementLinkTTL is how long a webhook management link works.
const managementLinkTTL = 15 * time.Minute

// handleManagementLink returns a short-lived link to the tenant's webhook
// page in kycd (Uphold's shape: {managementLink: {url, expiresAt}}).
func (s *Server) handleManagementLink() handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		expires := s.clock.Now().Add(managementLinkTTL)
		q := s.signedQuery("webhooks", tenantOf(r), "", expires)
		encode(w, http.StatusCreated, map[string]any{"managementLink": map[string]any{
			"url": s.publicURL + "/webhooks/manage?" + q.Encode(), "expiresAt": expires.Truncate(time.Second).UTC()}})
		return nil
	}
}

var managePage = template.Must(template.New("manage").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Webhooks · kycd</title>
<style>body{font:14px system-ui,sans-serif;margin:2rem;max-width:70rem}table{border-collapse:collapse;width:100%;margin-bottom:2rem}
td,th{border-bottom:1px solid #ddd;padding:.4rem;text-align:left;vertical-align:top}code{font-size:12px}.off{color:#a00}</style></head>
<body><h1>Webhook endpoints</h1>
<p>Manage them with the API (<code>/core/webhooks/endpoints</code>); this page shows them and their latest deliveries. It works until {{.Expires}}.</p>
{{range .Endpoints}}<h2><code>{{.URL}}</code></h2>
<p>{{if .Enabled}}enabled{{else}}<span class="off">disabled: {{.DisabledReason}}</span>{{end}} · events: {{range .EventTypes}}<code>{{.}}</code> {{end}}
{{if .Description}}· {{.Description}}{{end}} · id <code>{{.ID}}</code></p>
<table><tr><th>when</th><th>event</th><th>status</th><th>attempts</th><th>last answer</th></tr>
{{range .Deliveries}}<tr><td>{{.UpdatedAt.Format "2006-01-02 15:04:05"}}</td><td><code>{{.EventType}}</code><br><code>{{.EventID}}</code></td>
<td>{{.Status}}</td><td>{{.Attempts}}</td><td>{{if .LastStatus}}{{.LastStatus}} in {{.LastLatencyMS}} ms{{end}} {{.LastError}}</td></tr>
{{else}}<tr><td colspan="5">No deliveries yet.</td></tr>{{end}}</table>
{{else}}<p>No endpoints yet.</p>{{end}}
</body></html>`))

// handleManagePage shows a tenant's endpoints and their latest deliveries;
// the signed link is the credential.
func (s *Server) handleManagePage() handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		t, err := s.checkSigned(r, "webhooks", "")
		if err != nil {
			return err
		}
		exp, _ := strconv.ParseInt(r.URL.Query().Get("e"), 10, 64)
		endpoints, err := s.webhooks.Endpoints(r.Context(), t)
		if err != nil {
			return err
		}
		type view struct {
			*kycd.WebhookEndpoint
			Deliveries []*kycd.WebhookDelivery
		}
		data := struct {
			Expires   string
			Endpoints []view
		}{Expires: time.Unix(exp, 0).UTC().Format(time.RFC3339)}
		for _, ep := range endpoints {
			ds, err := s.webhooks.Deliveries(r.Context(), t, ep.ID, "", 20)
			if err != nil {
				return err
			}
			data.Endpoints = append(data.Endpoints, view{ep, ds})
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
		w.Header().Set("Cache-Control", "no-store")
		return managePage.Execute(w, data)
	}
}
